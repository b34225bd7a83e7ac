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
  co_await runtime_.publish(std::move(m));
}

std::string AgentContext::next_effect_key(std::string_view kind) {
  auto it = message_.metadata.find(std::string(kEffectScopeKey));
  const std::string& scope = it != message_.metadata.end() ? it->second : message_.id;
  return scope + "/" + std::string(kind) + "#" + std::to_string(++effect_counter_);
}

}  // namespace chorus::runtime
