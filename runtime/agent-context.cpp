#include "runtime/agent.h"
#include "runtime/agent-runtime.h"

namespace chorus::runtime {

AgentContext::AgentContext(AgentRuntime& runtime, AgentId self, const Message& message, std::stop_token stop,
                           std::shared_ptr<EffectJournal> journal)
    : runtime_(runtime), self_(std::move(self)), message_(message), stop_(std::move(stop)),
      journal_(std::move(journal)) {}

boost::asio::awaitable<nlohmann::json> AgentContext::send(const AgentId& to, nlohmann::json payload,
                                                          SendOptions options) {
  Message m = make_request(to, std::move(payload));
  m.sender = self_;
  m.trace_id = message_.trace_id;
  m.parent_id = message_.id;
  m.metadata = std::move(options.metadata);
  // The callee's effects get a deterministic journal scope under this message's, so its LLM/tool calls are
  // reused on resume and replay like this agent's own.
  m.metadata.try_emplace(std::string(kEffectScopeKey), next_effect_key(std::string("send:").append(to.type)));
  if (options.timeout.count() > 0)
    m.deadline = std::chrono::system_clock::now() + options.timeout;
  else
    m.deadline = message_.deadline;
  co_return co_await runtime_.send(std::move(m));
}

boost::asio::awaitable<void> AgentContext::publish(const TopicId& topic, nlohmann::json payload) {
  Message m = make_publication(topic, std::move(payload));
  m.sender = self_;
  m.trace_id = message_.trace_id;
  m.parent_id = message_.id;
  m.metadata[std::string(kEffectScopeKey)] = next_effect_key(std::string("publish:").append(topic.type));
  co_await runtime_.publish(std::move(m));
}

std::string AgentContext::next_effect_key(std::string_view kind) {
  auto it = message_.metadata.find(std::string(kEffectScopeKey));
  std::string scope = it != message_.metadata.end() ? it->second : message_.id;
  // A publication reaches several agents under one scope: each subscriber's effects get their own keys.
  if (message_.topic) scope.append("@").append(self_.str());
  scope.append("/").append(kind).append("#").append(std::to_string(++effect_counter_));
  return scope;
}

}  // namespace chorus::runtime
