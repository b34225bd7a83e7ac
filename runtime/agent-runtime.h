#pragma once
// AgentRuntime: delivers messages to agents; LocalRuntime runs them in-process, a worker links one to a host.
#include "runtime/agent.h"
#include "runtime/message.h"
#include "runtime/subscription.h"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace chorus::runtime {

// Supplies the effect journal for a message (by its trace id = run id); returns nullptr outside durable runs.
using JournalProvider = std::function<std::shared_ptr<EffectJournal>(const Message& message)>;

class AgentRuntime {
 public:
  virtual ~AgentRuntime() = default;
  // Registers a factory for agent `type`; throws std::invalid_argument on a bad or duplicate type.
  virtual void register_factory(const std::string& type, AgentFactory factory) = 0;
  // Adds a subscription (idempotent).
  virtual void add_subscription(const Subscription& subscription) = 0;
  // Sends a direct message and awaits the reply; throws AgentError (not_found, deadline_exceeded, ...).
  virtual boost::asio::awaitable<nlohmann::json> send(Message message) = 0;
  // Publishes to every subscribed agent except the sender; does not wait for the handlers.
  virtual boost::asio::awaitable<void> publish(Message message) = 0;
  // The executor agents run on.
  virtual boost::asio::any_io_executor executor() = 0;
  // Where agent contexts get their effect journal from.
  virtual void set_journal_provider(JournalProvider provider) = 0;

  // Blocking helpers for code outside coroutines (CLI, tests): run on the runtime's executor and wait.
  nlohmann::json send_and_wait(Message message);
  void publish_and_wait(Message message);
};

}  // namespace chorus::runtime
