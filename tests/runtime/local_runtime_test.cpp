// LocalRuntime: lazy instances, per-instance serialization, errors, deadlines, cancellation, pub/sub, remote
// routing, effect keys and journals, and shutdown with messages in flight.
#include "runtime/local-runtime.h"

#include "runtime/agent-error.h"
#include "runtime/echo-agent.h"
#include "runtime/effect-journal.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include "tests/support/memory-journal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace chorus::runtime {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

// An agent whose handler is a function (a coroutine lambda kept alive by the agent).
class FunctionAgent final : public Agent {
 public:
  using Handler = std::function<asio::awaitable<json>(const Message&, AgentContext&)>;
  explicit FunctionAgent(Handler handler) : handler_(std::move(handler)) {}
  asio::awaitable<json> on_message(const Message& message, AgentContext& context) override {
    co_return co_await handler_(message, context);
  }

 private:
  Handler handler_;
};

AgentFactory factory_of(FunctionAgent::Handler handler) {
  return [handler](const AgentId&) { return std::make_unique<FunctionAgent>(handler); };
}

AgentFactory echo_factory() {
  return [](const AgentId&) { return make_echo_agent(); };
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

// Sends on the runtime's executor without blocking; the future gets the reply or the error.
std::future<json> send_async(AgentRuntime& runtime, Message message) {
  auto promise = std::make_shared<std::promise<json>>();
  auto future = promise->get_future();
  asio::co_spawn(runtime.executor(), runtime.send(std::move(message)),
                 [promise](std::exception_ptr error, json reply) {
                   if (error)
                     promise->set_exception(error);
                   else
                     promise->set_value(std::move(reply));
                 });
  return future;
}

// The AgentError `call` throws (a test failure when it throws none).
AgentError error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const AgentError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an AgentError";
  return AgentError(StatusCode::ok, "");
}

Message request_to(const std::string& to, json payload = json::object()) {
  return make_request(AgentId::parse(to), std::move(payload));
}

// Waits (up to 5 s) until `done` holds, polling.
bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// What subscribers received: "agent-id <- topic".
class Deliveries {
 public:
  void add(std::string entry) {
    std::lock_guard lock(mutex_);
    entries_.insert(std::move(entry));
  }
  std::set<std::string> after(size_t count) {
    eventually([&] {
      std::lock_guard lock(mutex_);
      return entries_.size() >= count;
    });
    std::this_thread::sleep_for(50ms);  // time for unexpected extra deliveries to show up
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::mutex mutex_;
  std::set<std::string> entries_;
};

AgentFactory recorder_of(Deliveries& deliveries) {
  return factory_of([&deliveries](const Message& message, AgentContext& context) -> asio::awaitable<json> {
    deliveries.add(context.self().str() + " <- " + message.topic->str());
    co_return nullptr;
  });
}

TEST(LocalRuntime, SendReturnsTheReply) {
  LocalRuntime runtime;
  runtime.register_factory("echo", echo_factory());
  EXPECT_EQ(runtime.send_and_wait(request_to("echo/a", {{"x", 1}})), json({{"x", 1}}));
  EXPECT_TRUE(runtime.hosts("echo"));
  EXPECT_FALSE(runtime.hosts("other"));
  EXPECT_EQ(runtime.agent_types(), std::vector<std::string>{"echo"});
}

TEST(LocalRuntime, CreatesEachInstanceOnItsFirstMessageAndKeepsIt) {
  std::mutex mutex;
  std::map<std::string, int> created;
  LocalRuntime runtime;
  runtime.register_factory("counter", [&](const AgentId& id) {
    {
      std::lock_guard lock(mutex);
      ++created[id.str()];
    }
    auto handled = std::make_shared<int>(0);
    return std::make_unique<FunctionAgent>([handled](const Message&, AgentContext&) -> asio::awaitable<json> {
      co_return ++*handled;
    });
  });
  EXPECT_TRUE(created.empty());
  EXPECT_EQ(runtime.send_and_wait(request_to("counter/a")), 1);
  EXPECT_EQ(runtime.send_and_wait(request_to("counter/b")), 1);
  EXPECT_EQ(runtime.send_and_wait(request_to("counter/a")), 2);
  EXPECT_EQ(runtime.send_and_wait(request_to("counter/a")), 3);
  std::lock_guard lock(mutex);
  EXPECT_EQ(created, (std::map<std::string, int>{{"counter/a", 1}, {"counter/b", 1}}));
}

// Counts handlers inside their handler at once. Each suspends in the middle: for 30 ms, or, with `peers` > 1,
// until that many handlers were inside at once (up to 5 s), so concurrent handlers surely meet.
struct Overlap {
  explicit Overlap(int peers = 1) : peers(peers) {}
  const int peers;
  std::atomic<int> active{0};
  std::atomic<int> most{0};
  AgentFactory factory() {
    return factory_of([this](const Message&, AgentContext&) -> asio::awaitable<json> {
      int now = ++active;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      if (peers <= 1) {
        co_await sleep_for(30ms);
      } else {
        const auto until = std::chrono::steady_clock::now() + 5s;
        while (most.load() < peers && std::chrono::steady_clock::now() < until) co_await sleep_for(2ms);
      }
      --active;
      co_return nullptr;
    });
  }
};

TEST(LocalRuntime, OneInstanceHandlesOneMessageAtATimeEvenWhenHandlersSuspend) {
  Overlap overlap;
  LocalRuntime runtime;
  runtime.register_factory("slow", overlap.factory());
  std::vector<std::future<json>> replies;
  for (int i = 0; i < 4; ++i) replies.push_back(send_async(runtime, request_to("slow/same")));
  for (auto& reply : replies) reply.get();
  EXPECT_EQ(overlap.most.load(), 1);
}

TEST(LocalRuntime, DifferentInstancesRunConcurrently) {
  Overlap overlap(4);
  LocalRuntime runtime;
  runtime.register_factory("slow", overlap.factory());
  std::vector<std::future<json>> replies;
  for (int i = 0; i < 4; ++i) replies.push_back(send_async(runtime, request_to("slow/k" + std::to_string(i))));
  for (auto& reply : replies) reply.get();
  EXPECT_EQ(overlap.most.load(), 4);
}

TEST(LocalRuntime, BlockingHandlersOfDifferentInstancesRunOnDifferentThreads) {
  // Each handler blocks its thread until both have arrived (or 5 s pass): only concurrent handlers meet.
  std::mutex mutex;
  std::condition_variable arrived_cv;
  int arrived = 0;
  LocalRuntime runtime(LocalRuntimeOptions{2});
  runtime.register_factory("blocker", factory_of([&](const Message&, AgentContext&) -> asio::awaitable<json> {
    std::unique_lock lock(mutex);
    ++arrived;
    arrived_cv.notify_all();
    co_return arrived_cv.wait_for(lock, 5s, [&] { return arrived >= 2; });
  }));
  auto first = send_async(runtime, request_to("blocker/a"));
  auto second = send_async(runtime, request_to("blocker/b"));
  EXPECT_EQ(first.get(), true);
  EXPECT_EQ(second.get(), true);
}

TEST(LocalRuntime, UnknownTypeIsNotFoundNamingTheRegisteredTypes) {
  LocalRuntime runtime;
  runtime.register_factory("echo", echo_factory());
  runtime.register_factory("alpha", echo_factory());
  auto error = error_of([&] { runtime.send_and_wait(request_to("missing/x")); });
  EXPECT_EQ(error.code(), StatusCode::not_found);
  EXPECT_STREQ(error.what(), "no agent type 'missing' is registered here; registered: alpha, echo");
}

TEST(LocalRuntime, HandlerErrorsReachTheSender) {
  LocalRuntime runtime;
  runtime.register_factory("budget", factory_of([](const Message&, AgentContext&) -> asio::awaitable<json> {
    throw AgentError(StatusCode::resource_exhausted, "token budget spent");
    co_return nullptr;
  }));
  runtime.register_factory("broken", factory_of([](const Message&, AgentContext&) -> asio::awaitable<json> {
    throw std::runtime_error("disk full");
    co_return nullptr;
  }));
  auto budget = error_of([&] { runtime.send_and_wait(request_to("budget/a")); });
  EXPECT_EQ(budget.code(), StatusCode::resource_exhausted);
  EXPECT_STREQ(budget.what(), "token budget spent");
  auto broken = error_of([&] { runtime.send_and_wait(request_to("broken/a")); });
  EXPECT_EQ(broken.code(), StatusCode::failed);
  EXPECT_STREQ(broken.what(), "disk full");
  // The instance survives its handler's error.
  EXPECT_EQ(error_of([&] { runtime.send_and_wait(request_to("broken/a")); }).code(), StatusCode::failed);
}

// A handler that waits (suspended, up to 5 s) until its stop token is requested, then records that it saw it.
struct StopWatcher {
  std::atomic<bool> started{false};
  std::atomic<bool> saw_stop{false};
  AgentFactory factory() {
    return factory_of([this](const Message&, AgentContext& context) -> asio::awaitable<json> {
      started = true;
      const auto until = std::chrono::steady_clock::now() + 5s;
      while (!context.stop_token().stop_requested() && std::chrono::steady_clock::now() < until)
        co_await sleep_for(5ms);
      saw_stop = context.stop_token().stop_requested();
      co_return "finished";
    });
  }
};

TEST(LocalRuntime, LateReplyIsDeadlineExceededAndStopsTheHandler) {
  StopWatcher watcher;
  LocalRuntime runtime;
  runtime.register_factory("slow", watcher.factory());
  auto message = request_to("slow/a");
  message.deadline = std::chrono::system_clock::now() + 50ms;
  const auto start = std::chrono::steady_clock::now();
  auto error = error_of([&] { runtime.send_and_wait(message); });
  EXPECT_EQ(error.code(), StatusCode::deadline_exceeded);
  EXPECT_NE(std::string(error.what()).find("slow/a"), std::string::npos) << error.what();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(eventually([&] { return watcher.saw_stop.load(); }));
}

TEST(LocalRuntime, DeadlineAlreadyPassedNeverRunsTheHandler) {
  StopWatcher watcher;
  LocalRuntime runtime;
  runtime.register_factory("slow", watcher.factory());
  auto message = request_to("slow/a");
  message.deadline = std::chrono::system_clock::now() - 1s;
  EXPECT_EQ(error_of([&] { runtime.send_and_wait(message); }).code(), StatusCode::deadline_exceeded);
  EXPECT_FALSE(watcher.started);
}

TEST(LocalRuntime, CancelStopsTheHandlerAndTellsTheSender) {
  StopWatcher watcher;
  LocalRuntime runtime;
  runtime.register_factory("slow", watcher.factory());
  auto message = request_to("slow/a");
  auto reply = send_async(runtime, message);
  ASSERT_TRUE(eventually([&] { return watcher.started.load(); }));
  runtime.cancel(message.id);
  auto error = error_of([&] { reply.get(); });
  EXPECT_EQ(error.code(), StatusCode::cancelled);
  EXPECT_TRUE(eventually([&] { return watcher.saw_stop.load(); }));
  runtime.cancel("no-such-message");  // harmless
}

TEST(LocalRuntime, PublicationsReachSubscribersByTypeExceptTheSender) {
  Deliveries deliveries;
  LocalRuntime runtime;
  runtime.register_factory("tracker", recorder_of(deliveries));
  runtime.register_factory("auditor", recorder_of(deliveries));
  runtime.add_subscription({"progress", "tracker", false});
  runtime.add_subscription({"progress", "auditor", false});
  runtime.add_subscription({"progress", "auditor", false});  // idempotent
  runtime.add_subscription({"other", "auditor", false});
  EXPECT_EQ(runtime.subscriptions().size(), 3u);

  auto from_tracker = [](std::string topic) {
    auto m = make_publication(TopicId::parse(topic), {{"step", 1}});
    m.sender = AgentId{"tracker", "run-1"};
    return m;
  };
  runtime.publish_and_wait(from_tracker("progress/run-1"));   // the sender itself is skipped
  runtime.publish_and_wait(from_tracker("progress/run-2"));   // another tracker instance is not the sender
  runtime.publish_and_wait(from_tracker("progressive/run-3"));  // no subscription matches
  EXPECT_EQ(deliveries.after(3), (std::set<std::string>{"auditor/run-1 <- progress/run-1",
                                                         "auditor/run-2 <- progress/run-2",
                                                         "tracker/run-2 <- progress/run-2"}));
}

TEST(LocalRuntime, PrefixSubscriptionsMatchTopicTypesStartingWithThePrefix) {
  Deliveries deliveries;
  LocalRuntime runtime;
  runtime.register_factory("tracker", recorder_of(deliveries));
  runtime.add_subscription({"run.", "tracker", true});
  runtime.publish_and_wait(make_publication(TopicId::parse("run.started/a"), nullptr));
  runtime.publish_and_wait(make_publication(TopicId::parse("run.done/b"), nullptr));
  runtime.publish_and_wait(make_publication(TopicId::parse("running/c"), nullptr));
  EXPECT_EQ(deliveries.after(2),
            (std::set<std::string>{"tracker/a <- run.started/a", "tracker/b <- run.done/b"}));
}

TEST(LocalRuntime, PublishDoesNotWaitForSubscribersAndLogsTheirErrors) {
  std::promise<void> gate;
  auto gate_open = gate.get_future().share();
  std::atomic<bool> blocker_done{false};
  std::atomic<int> throws{0};
  LocalRuntime runtime;
  runtime.register_factory("blocker", factory_of([&](const Message&, AgentContext&) -> asio::awaitable<json> {
    gate_open.wait_for(5s);
    blocker_done = true;
    co_return nullptr;
  }));
  runtime.register_factory("thrower", factory_of([&](const Message&, AgentContext&) -> asio::awaitable<json> {
    ++throws;
    throw std::runtime_error("subscriber broke");
    co_return nullptr;
  }));
  runtime.add_subscription({"news", "blocker", false});
  runtime.add_subscription({"news", "thrower", false});
  ::testing::internal::CaptureStderr();
  EXPECT_NO_THROW(runtime.publish_and_wait(make_publication(TopicId::parse("news/x"), nullptr)));
  EXPECT_FALSE(blocker_done);
  gate.set_value();
  EXPECT_TRUE(eventually([&] { return blocker_done.load() && throws.load() == 1; }));
  std::this_thread::sleep_for(200ms);  // the log line follows the handler's exception
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("subscriber thrower/x failed on publication news/x"), std::string::npos) << log;
  EXPECT_NE(log.find("failed: subscriber broke"), std::string::npos) << log;
}

TEST(LocalRuntime, AnAgentCallsAnotherWithTheSameTraceAndItsMessageAsParent) {
  LocalRuntime runtime;
  runtime.register_factory("inspector", factory_of([](const Message& message, AgentContext&) -> asio::awaitable<json> {
    co_return json{{"trace", message.trace_id},
                   {"parent", message.parent_id},
                   {"sender", message.sender ? message.sender->str() : std::string("none")},
                   {"has_deadline", message.has_deadline()}};
  }));
  runtime.register_factory("caller", factory_of([](const Message&, AgentContext& context) -> asio::awaitable<json> {
    const AgentId inspector{"inspector", "x"};
    json question = {{"q", 1}};
    co_return co_await context.send(inspector, std::move(question));
  }));
  auto message = request_to("caller/k");
  message.trace_id = "run-42";
  message.deadline = std::chrono::system_clock::now() + 30s;
  auto reply = runtime.send_and_wait(message);
  EXPECT_EQ(reply, (json{{"trace", "run-42"}, {"parent", message.id}, {"sender", "caller/k"}, {"has_deadline", true}}));
}

TEST(LocalRuntime, EffectKeysAreDeterministicPerScope) {
  LocalRuntime runtime;
  runtime.register_factory("effects", factory_of([](const Message&, AgentContext& context) -> asio::awaitable<json> {
    co_return json{context.next_effect_key("llm"), context.next_effect_key("llm"), context.next_effect_key("tool")};
  }));
  auto scoped = [] {
    auto m = request_to("effects/a");
    m.metadata[std::string(kEffectScopeKey)] = "step-a";
    return m;
  };
  const json expected = {"step-a/llm#1", "step-a/llm#2", "step-a/tool#3"};
  EXPECT_EQ(runtime.send_and_wait(scoped()), expected);
  EXPECT_EQ(runtime.send_and_wait(scoped()), expected);
  auto unscoped = request_to("effects/a");
  EXPECT_EQ(runtime.send_and_wait(unscoped)[0], unscoped.id + "/llm#1");
}

using chorus::testing::MemoryJournal;

TEST(LocalRuntime, HandlersGetTheJournalOfTheirRun) {
  auto journal = std::make_shared<MemoryJournal>();
  std::atomic<int> performed{0};
  LocalRuntime runtime;
  runtime.set_journal_provider([journal](const Message& message) -> std::shared_ptr<EffectJournal> {
    return message.trace_id == "durable" ? journal : nullptr;
  });
  runtime.register_factory("tool_user", factory_of([&](const Message&, AgentContext& context) -> asio::awaitable<json> {
    co_return run_once(context.journal(), context.next_effect_key("tool"), "tool", nullptr,
                       [&] { return json(++performed); });
  }));
  auto message = [](std::string trace) {
    auto m = request_to("tool_user/a");
    m.trace_id = std::move(trace);
    m.metadata[std::string(kEffectScopeKey)] = "step-1";
    return m;
  };
  EXPECT_EQ(runtime.send_and_wait(message("durable")), 1);
  EXPECT_EQ(runtime.send_and_wait(message("durable")), 1);  // recorded: not performed again
  EXPECT_EQ(runtime.send_and_wait(message("other")), 2);    // no journal outside durable runs
  EXPECT_EQ(runtime.send_and_wait(message("other")), 3);
  EXPECT_EQ(journal->lookup("step-1/tool#1"), json(1));
}

TEST(LocalRuntime, SendAndWaitWorksFromManyOutsideThreads) {
  LocalRuntime runtime(LocalRuntimeOptions{2});
  runtime.register_factory("echo", echo_factory());
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        json payload = {{"t", t}, {"i", i}};
        if (runtime.send_and_wait(request_to("echo/" + std::to_string(t % 3), payload)) == payload) ++correct;
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(correct.load(), 200);
}

TEST(LocalRuntime, RegistersAndSubscribesWhileMessagesFlow) {
  LocalRuntime runtime;
  runtime.register_factory("echo", echo_factory());
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread sender([&] {
    while (!stop) {
      runtime.send_and_wait(request_to("echo/a", sent.load()));
      runtime.publish_and_wait(make_publication(TopicId::parse("tick"), nullptr));
      ++sent;
    }
  });
  for (int i = 0; i < 20; ++i) {
    const std::string type = "dyn" + std::to_string(i);
    runtime.register_factory(type, echo_factory());
    runtime.add_subscription({"tick", type, false});
    EXPECT_EQ(runtime.send_and_wait(request_to(type + "/k", i)), i);
  }
  EXPECT_TRUE(eventually([&] { return sent.load() > 5; }));
  stop = true;
  sender.join();
  EXPECT_EQ(runtime.agent_types().size(), 21u);
  EXPECT_THROW(runtime.register_factory("echo", echo_factory()), std::invalid_argument);
  EXPECT_THROW(runtime.register_factory("9bad", echo_factory()), std::invalid_argument);
  EXPECT_THROW(runtime.register_factory("empty", AgentFactory{}), std::invalid_argument);
  EXPECT_THROW(runtime.add_subscription({"tick", "bad type", false}), std::invalid_argument);
}

// Routes a runtime's remote traffic into another runtime, as a worker's link to its host would.
class RuntimeLink final : public RemoteRouter {
 public:
  explicit RuntimeLink(LocalRuntime& target) : target_(target) {}
  asio::awaitable<json> send(Message message) override { co_return co_await target_.deliver(std::move(message)); }
  asio::awaitable<void> publish(Message message) override {
    co_await target_.deliver_publication(std::move(message));
  }

 private:
  LocalRuntime& target_;
};

TEST(LocalRuntime, WhatIsNotHostedHereGoesToTheRemote) {
  Deliveries host_deliveries, worker_deliveries;
  LocalRuntime host;
  host.register_factory("echo", echo_factory());
  host.register_factory("tracker", recorder_of(host_deliveries));
  host.add_subscription({"progress", "tracker", false});
  LocalRuntime worker;
  worker.register_factory("caller", factory_of([](const Message& message, AgentContext& context) -> asio::awaitable<json> {
    const AgentId echo{"echo", "x"};
    co_return co_await context.send(echo, message.payload);
  }));
  worker.register_factory("tracker", recorder_of(worker_deliveries));
  worker.add_subscription({"progress", "tracker", false});
  EXPECT_EQ(error_of([&] { worker.send_and_wait(request_to("echo/x")); }).code(), StatusCode::not_found);

  worker.set_remote(std::make_shared<RuntimeLink>(host));
  EXPECT_EQ(worker.send_and_wait(request_to("caller/a", "hello")), "hello");
  auto missing = error_of([&] { worker.send_and_wait(request_to("missing/x")); });
  EXPECT_EQ(missing.code(), StatusCode::not_found);
  EXPECT_STREQ(missing.what(), "no agent type 'missing' is registered here; registered: echo, tracker");

  // A publication reaches the local subscriber and, through the remote, the host's (which delivers locally only).
  host.set_remote(std::make_shared<RuntimeLink>(worker));
  worker.publish_and_wait(make_publication(TopicId::parse("progress/run-7"), nullptr));
  const std::set<std::string> expected{"tracker/run-7 <- progress/run-7"};
  EXPECT_EQ(worker_deliveries.after(1), expected);
  EXPECT_EQ(host_deliveries.after(1), expected);
  // deliver() never forwards: the host does not host "caller" even though its remote does.
  auto local_only = [&] { return host.deliver(request_to("caller/a")); };
  std::promise<StatusCode> code;
  asio::co_spawn(host.executor(), local_only(), [&](std::exception_ptr error, json) {
    try {
      if (error) std::rethrow_exception(error);
      code.set_value(StatusCode::ok);
    } catch (const AgentError& e) {
      code.set_value(e.code());
    }
  });
  EXPECT_EQ(code.get_future().get(), StatusCode::not_found);
}

TEST(LocalRuntime, DestroyingWithMessagesInFlightCancelsThemWithoutCrashing) {
  std::atomic<int> started{0};
  auto runtime = std::make_unique<LocalRuntime>(LocalRuntimeOptions{2});
  // Suspended for a long time without looking at its stop token.
  runtime->register_factory("sleeper", factory_of([&](const Message&, AgentContext&) -> asio::awaitable<json> {
    ++started;
    co_await sleep_for(30s);
    co_return nullptr;
  }));
  // Blocks its thread briefly.
  runtime->register_factory("blocker", factory_of([&](const Message&, AgentContext&) -> asio::awaitable<json> {
    ++started;
    std::this_thread::sleep_for(300ms);
    co_return nullptr;
  }));
  runtime->add_subscription({"news", "sleeper", false});
  std::promise<StatusCode> outside;
  std::thread outside_sender([&] {
    try {
      runtime->send_and_wait(request_to("sleeper/outside"));
      outside.set_value(StatusCode::ok);
    } catch (const AgentError& e) {
      outside.set_value(e.code());
    }
  });
  std::vector<std::future<json>> replies;
  for (int i = 0; i < 5; ++i) replies.push_back(send_async(*runtime, request_to("sleeper/k" + std::to_string(i))));
  replies.push_back(send_async(*runtime, request_to("blocker/a")));
  replies.push_back(send_async(*runtime, request_to("sleeper/k0")));  // queued behind k0's first message
  runtime->publish_and_wait(make_publication(TopicId::parse("news/n"), nullptr));
  ASSERT_TRUE(eventually([&] { return started.load() == 8; }));

  const auto start = std::chrono::steady_clock::now();
  runtime.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  outside_sender.join();
  EXPECT_EQ(outside.get_future().get(), StatusCode::cancelled);
  for (auto& reply : replies) {
    ASSERT_EQ(reply.wait_for(0s), std::future_status::ready);
    EXPECT_EQ(error_of([&] { reply.get(); }).code(), StatusCode::cancelled);
  }
}

}  // namespace
}  // namespace chorus::runtime
