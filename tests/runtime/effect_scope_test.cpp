// Journal keys of effects made by agents that other agents call (or that receive publications): deterministic
// across runs, so a resumed or replayed run finds the callee's recorded LLM and tool calls too.
#include "runtime/local-runtime.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <chrono>
#include <mutex>
#include <thread>

namespace chorus::runtime {
namespace {

using nlohmann::json;

// Replies with the key its next effect would get.
class KeyReporter final : public Agent {
 public:
  boost::asio::awaitable<json> on_message(const Message&, AgentContext& context) override {
    co_return context.next_effect_key("tool");
  }
};

// Calls the reporter twice and returns both keys.
class Caller final : public Agent {
 public:
  boost::asio::awaitable<json> on_message(const Message&, AgentContext& context) override {
    // Named arguments, not temporaries inside co_await: GCC 12 can destroy such temporaries twice.
    const AgentId reporter{"reporter", "k"};
    json first = co_await context.send(reporter, json::object());
    json second = co_await context.send(reporter, json::object());
    co_return json::array({first, second});
  }
};

json call_with_scope(const std::string& scope) {
  LocalRuntime runtime;
  runtime.register_factory("caller", [](const AgentId&) { return std::make_unique<Caller>(); });
  runtime.register_factory("reporter", [](const AgentId&) { return std::make_unique<KeyReporter>(); });
  Message m = make_request(AgentId{"caller", "run"}, json::object());
  m.metadata[std::string(kEffectScopeKey)] = scope;
  return runtime.send_and_wait(std::move(m));
}

TEST(EffectScope, CalleeKeysDeriveFromTheCallersScopeAndRepeatAcrossRuns) {
  json first_run = call_with_scope("solve#1");
  EXPECT_EQ(first_run, json::array({"solve#1/send:reporter#1/tool#1", "solve#1/send:reporter#2/tool#1"}));
  EXPECT_EQ(call_with_scope("solve#1"), first_run);  // a resumed run computes the same keys
  EXPECT_NE(call_with_scope("solve#2"), first_run);
}

// Records the key of its next effect for each publication it receives.
class Subscriber final : public Agent {
 public:
  Subscriber(std::mutex& mutex, std::vector<std::string>& keys) : mutex_(mutex), keys_(keys) {}
  boost::asio::awaitable<json> on_message(const Message&, AgentContext& context) override {
    std::lock_guard lock(mutex_);
    keys_.push_back(context.next_effect_key("llm"));
    co_return json();
  }

 private:
  std::mutex& mutex_;
  std::vector<std::string>& keys_;
};

TEST(EffectScope, EachSubscriberOfAPublicationGetsItsOwnKeys) {
  std::mutex mutex;
  std::vector<std::string> keys;
  LocalRuntime runtime;
  for (const char* type : {"a", "b"}) {
    runtime.register_factory(type, [&](const AgentId&) { return std::make_unique<Subscriber>(mutex, keys); });
    runtime.add_subscription(Subscription{"news", type, false});
  }
  Message m = make_publication(TopicId{"news", "s1"}, json::object());
  m.metadata[std::string(kEffectScopeKey)] = "step#1/publish:news#1";
  runtime.publish_and_wait(std::move(m));
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mutex);
      if (keys.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(keys.size(), 2u);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys[0], "step#1/publish:news#1@a/s1/llm#1");
  EXPECT_EQ(keys[1], "step#1/publish:news#1@b/s1/llm#1");
}

}  // namespace
}  // namespace chorus::runtime
