#include "runtime/sleep-agent.h"

#include "runtime/agent-error.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace chorus::runtime {
namespace {

class SleepAgent final : public Agent {
 public:
  SleepAgent(std::string worker, AgentId id) : worker_(std::move(worker)), id_(std::move(id)) {}

  boost::asio::awaitable<nlohmann::json> on_message(const Message& message, AgentContext& context) override {
    long long ms = message.payload.is_object() ? message.payload.value("ms", 0LL) : 0LL;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (std::chrono::steady_clock::now() < until) {
      if (context.stop_token().stop_requested()) throw AgentError(StatusCode::cancelled, "sleep cancelled");
      timer.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(20),
                                                                       until - std::chrono::steady_clock::now()));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    co_return nlohmann::json{{"worker", worker_}, {"agent", id_.str()}, {"slept_ms", ms}, {"payload", message.payload}};
  }

 private:
  std::string worker_;
  AgentId id_;
};

}  // namespace

std::unique_ptr<Agent> make_sleep_agent(std::string worker_name, AgentId id) {
  return std::make_unique<SleepAgent>(std::move(worker_name), std::move(id));
}

void add_sleep_kind(AgentKindRegistry& registry, const std::string& worker_name) {
  AgentKind kind;
  kind.name = "sleep";
  kind.description = "waits payload.ms milliseconds, then replies with the worker's name (diagnostics)";
  kind.factory = [worker_name](const nlohmann::json&, const AgentId& id) { return make_sleep_agent(worker_name, id); };
  registry.add(std::move(kind));
}

}  // namespace chorus::runtime
