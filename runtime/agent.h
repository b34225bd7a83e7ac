#pragma once
// Agent: a message handler addressed by AgentId; AgentContext: what a handler may do while it handles one message.
#include "runtime/agent-id.h"
#include "runtime/effect-journal.h"
#include "runtime/message.h"

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

namespace chorus::runtime {

class AgentRuntime;

// Options of a direct send.
struct SendOptions {
  std::chrono::milliseconds timeout{0};  // 0: inherit the handled message's deadline (or none)
  std::map<std::string, std::string> metadata;
};

// Given to Agent::on_message for the duration of one message.
class AgentContext {
 public:
  AgentContext(AgentRuntime& runtime, AgentId self, const Message& message, std::stop_token stop,
               std::shared_ptr<EffectJournal> journal);

  const AgentId& self() const { return self_; }
  // The message being handled.
  const Message& message() const { return message_; }
  AgentRuntime& runtime() { return runtime_; }
  // Sends a direct message as this agent (same trace id, parent = the handled message) and awaits the reply.
  boost::asio::awaitable<nlohmann::json> send(const AgentId& to, nlohmann::json payload, SendOptions options = {});
  // Publishes on `topic` as this agent (same trace id).
  boost::asio::awaitable<void> publish(const TopicId& topic, nlohmann::json payload);
  // Requested when the message is cancelled or its deadline passes; long handlers should check it.
  std::stop_token stop_token() const { return stop_; }
  // The durable-effect journal of this message's run; nullptr outside a durable run.
  EffectJournal* journal() { return journal_.get(); }
  // A deterministic key for the next effect of `kind` while handling this message: "<scope>/<kind>#<n>"
  // (publications: "<scope>@<self>/<kind>#<n>"); messages this agent sends get "<key of the send>" as scope,
  // where scope is the message's kEffectScopeKey metadata (or its id). Same order of calls → same keys.
  std::string next_effect_key(std::string_view kind);

 private:
  AgentRuntime& runtime_;
  AgentId self_;
  const Message& message_;
  std::stop_token stop_;
  std::shared_ptr<EffectJournal> journal_;
  int effect_counter_ = 0;
};

// An agent instance. The runtime delivers one message at a time per instance.
class Agent {
 public:
  virtual ~Agent() = default;
  // Handles one message; the returned JSON is the reply to a direct message (ignored for publications).
  // Throwing AgentError sends that status back; any other exception becomes StatusCode::failed.
  virtual boost::asio::awaitable<nlohmann::json> on_message(const Message& message, AgentContext& context) = 0;
};

// Creates the instance for `id` the first time a message is addressed to it.
using AgentFactory = std::function<std::unique_ptr<Agent>(const AgentId& id)>;

}  // namespace chorus::runtime
