// WorkflowEngine over a real LocalRuntime and a real SQLite RunStore: sequential tasks, context and interpolation,
// when-edges and bounded loops, parallel fan-out, retries, timeouts, output schemas, token budgets, human input,
// resume from checkpoints (without repeating journaled effects), and replay (identical and diverging).
#include "runtime/workflow-engine.h"

#include "runtime/agent-error.h"
#include "runtime/echo-agent.h"
#include "runtime/effect-journal.h"
#include "runtime/local-runtime.h"
#include "runtime/task-message.h"
#include "tests/support/temp-dir.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <thread>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace chorus::runtime {
namespace {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// An agent whose handler is a coroutine function.
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

// Sleeps up to `duration`, returning early when the message is cancelled or its deadline passes.
asio::awaitable<void> sleep_unless_stopped(std::chrono::milliseconds duration, AgentContext& context) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto until = SteadyClock::now() + duration;
  while (SteadyClock::now() < until && !context.stop_token().stop_requested()) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// What one agent type saw: every request and when each was handled.
struct Probe {
  std::mutex mutex;
  std::vector<Message> messages;
  std::vector<std::pair<SteadyClock::time_point, SteadyClock::time_point>> spans;
  int calls() {
    std::lock_guard lock(mutex);
    return static_cast<int>(messages.size());
  }
  TaskRequest request(size_t i) {
    std::lock_guard lock(mutex);
    return TaskRequest::from_json(messages.at(i).payload);
  }
};

json reply(json output, long long prompt_tokens = 0, long long completion_tokens = 0) {
  return {{"output", std::move(output)},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}},
          {"turns", 1}};
}

class WorkflowEngineTest : public ::testing::Test {
 protected:
  // Registers agent type `name`; `body(message, context, call_number)` computes the reply (call numbers from 1).
  using Body = std::function<asio::awaitable<json>(const Message&, AgentContext&, int)>;
  Probe& agent(const std::string& name, Body body) {
    Probe* probe = &probes_[name];
    runtime_.register_factory(name, [probe, body](const AgentId&) {
      return std::make_unique<FunctionAgent>([probe, body](const Message& m, AgentContext& c) -> asio::awaitable<json> {
        int call = 0;
        {
          std::lock_guard lock(probe->mutex);
          probe->messages.push_back(m);
          call = static_cast<int>(probe->messages.size());
        }
        auto started = SteadyClock::now();
        json result = co_await body(m, c, call);
        std::lock_guard lock(probe->mutex);
        probe->spans.emplace_back(started, SteadyClock::now());
        co_return result;
      });
    });
    return *probe;
  }

  // An agent replying with fixed text/JSON (and 10 + 5 tokens).
  Probe& constant(const std::string& name, json output) {
    return agent(name, [output](const Message&, AgentContext&, int) -> asio::awaitable<json> {
      co_return reply(output, 10, 5);
    });
  }

  RunEventSink sink() {
    return [this](const RunEvent& event) {
      std::lock_guard lock(events_mutex_);
      events_.push_back(event);
    };
  }

  std::vector<RunEvent> events_of(const std::string& type) {
    std::lock_guard lock(events_mutex_);
    std::vector<RunEvent> out;
    for (const auto& e : events_)
      if (e.type == type) out.push_back(e);
    return out;
  }

  RunRecord start(const std::string& yaml, const std::map<std::string, std::string>& inputs = {}) {
    WorkflowSpec spec = WorkflowSpec::parse(yaml, "test.yaml");
    return engine_.start(spec, yaml, spec.resolve_inputs(inputs), sink());
  }

  testing::TempDir dir_{"engine"};
  RunStore store_{(dir_ / "runs.db").string()};
  std::map<std::string, Probe> probes_;  // outlives the runtime: a stopped handler may still be finishing
  LocalRuntime runtime_;
  WorkflowEngine engine_{runtime_, store_};
  std::mutex events_mutex_;
  std::vector<RunEvent> events_;
};

TEST_F(WorkflowEngineTest, SequentialTasksPassContextAndFillInTexts) {
  auto& planner = agent("planner", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply("outline of " + TaskRequest::from_json(m.payload).description, 12, 8);
  });
  auto& writer = agent("writer", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    auto request = TaskRequest::from_json(m.payload);
    co_return reply("essay from " + request.context.at(0).output.get<std::string>(), 30, 20);
  });
  const std::string yaml = R"Y(
name: essay
inputs:
  topic: {description: what to write about}
agents:
  planner: {kind: echo}
  writer: {kind: echo}
tasks:
  plan:
    description: "Plan an essay about {topic}"
    expected_output: "an outline"
    agent: planner
  write:
    description: "Write about {inputs.topic} from: {outputs.plan}"
    agent: writer
    context: [plan]
)Y";
  RunRecord run = start(yaml, {{"topic", "bees"}});
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(run.outputs["plan"], "outline of Plan an essay about bees");
  EXPECT_EQ(run.outputs["write"], "essay from outline of Plan an essay about bees");
  EXPECT_EQ(run.prompt_tokens, 42);
  EXPECT_EQ(run.completion_tokens, 28);

  ASSERT_EQ(writer.calls(), 1);
  TaskRequest request = writer.request(0);
  EXPECT_EQ(request.description, "Write about bees from: outline of Plan an essay about bees");
  ASSERT_EQ(request.context.size(), 1u);
  EXPECT_EQ(request.context[0].task, "plan");
  EXPECT_EQ(request.inputs, json({{"topic", "bees"}}));
  EXPECT_EQ(planner.request(0).expected_output, "an outline");
  // Addressed to this run's own instance, traced and scoped for the journal.
  const Message& sent = writer.messages.at(0);
  EXPECT_EQ(sent.recipient->str(), "writer/" + run.id + "/write");
  EXPECT_EQ(sent.trace_id, run.id);
  EXPECT_EQ(sent.metadata.at(std::string(kEffectScopeKey)), "write#1");
  EXPECT_TRUE(sent.has_deadline());

  auto steps = store_.list_steps(run.id);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].step, "plan");
  EXPECT_EQ(steps[0].state, "done");
  EXPECT_EQ(steps[1].output, run.outputs["write"]);
  EXPECT_EQ(steps[1].prompt_tokens, 30);

  // The same events reach the sink and the store, in order.
  std::vector<std::string> types;
  for (const auto& e : store_.list_events(run.id))
    if (e.type != "message") types.push_back(e.type);
  EXPECT_EQ(types, (std::vector<std::string>{"run_started", "step_started", "step_finished", "step_started",
                                             "step_finished", "run_finished"}));
  EXPECT_EQ(events_of("message").size(), 4u);  // two requests, two replies
  auto finished = events_of("step_finished");
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[1].step, "write");
  EXPECT_EQ(finished[1].prompt_tokens, 30);
  EXPECT_EQ(store_.find_run(run.id)->state, "done");
}

TEST_F(WorkflowEngineTest, EchoAgentOutputIsTheRequestItself) {
  runtime_.register_factory("echoer", [](const AgentId&) { return make_echo_agent(); });
  RunRecord run = start(R"Y(
name: hello
inputs:
  name: {default: world}
agents:
  echoer: {kind: echo}
tasks:
  greet: {description: "Hello, {name}!", agent: echoer}
)Y");
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(run.outputs["greet"]["description"], "Hello, world!");
}

const char* kReviewLoop = R"Y(
name: review-loop
agents:
  drafter: {kind: echo}
  reviewer: {kind: echo}
  publisher: {kind: echo}
tasks:
  draft: {description: "Draft (round {iterations.draft})", agent: drafter}
  review: {description: "Review: {outputs.draft}", agent: reviewer}
  publish: {description: "Publish: {outputs.draft}", agent: publisher}
flow:
  start: draft
  steps:
    draft: {next: review, max_iterations: 3}
    review:
      max_iterations: 3
      next:
        - when: "outputs.review.verdict == 'revise'"
          goto: draft
        - goto: publish
    publish: {}
)Y";

TEST_F(WorkflowEngineTest, WhenEdgeLeavesTheLoopOnApproval) {
  auto& drafter = agent("drafter", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply(TaskRequest::from_json(m.payload).description);
  });
  auto& reviewer = agent("reviewer", [](const Message&, AgentContext&, int call) -> asio::awaitable<json> {
    co_return reply(json{{"verdict", call == 1 ? "revise" : "approve"}});
  });
  auto& publisher = constant("publisher", "published");
  RunRecord run = start(kReviewLoop);
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(drafter.calls(), 2);
  EXPECT_EQ(reviewer.calls(), 2);
  EXPECT_EQ(publisher.calls(), 1);
  EXPECT_EQ(run.outputs["draft"], "Draft (round 2)");
  EXPECT_EQ(run.outputs["review"]["verdict"], "approve");
  EXPECT_EQ(publisher.request(0).description, "Publish: Draft (round 2)");
  ASSERT_TRUE(store_.find_step(run.id, "draft", 2));
  EXPECT_EQ(store_.find_step(run.id, "draft", 1)->output, "Draft (round 1)");
}

TEST_F(WorkflowEngineTest, LoopIsBoundedByMaxIterations) {
  auto& drafter = agent("drafter", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply(TaskRequest::from_json(m.payload).description);
  });
  auto& reviewer = constant("reviewer", json{{"verdict", "revise"}});
  auto& publisher = constant("publisher", "published anyway");
  RunRecord run = start(kReviewLoop);
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(drafter.calls(), 3);
  EXPECT_EQ(reviewer.calls(), 3);
  EXPECT_EQ(publisher.calls(), 1);
  EXPECT_EQ(run.outputs["draft"], "Draft (round 3)");
  EXPECT_EQ(run.outputs["publish"], "published anyway");
}

TEST_F(WorkflowEngineTest, ParallelBranchesOnOneAgentStillOverlap) {
  agent("searcher", [](const Message&, AgentContext& c, int) -> asio::awaitable<json> {
    co_await sleep_unless_stopped(300ms, c);
    co_return reply("found", 1, 1);
  });
  RunRecord run = start(R"Y(
name: fan-out-one-agent
agents:
  searcher: {kind: echo}
tasks:
  a: {description: "search a", agent: searcher}
  b: {description: "search b", agent: searcher}
flow:
  start: fan
  steps:
    fan: {parallel: [a, b]}
    a: {}
    b: {}
)Y");
  ASSERT_EQ(run.state, "done") << run.error;
  const auto& spans = probes_["searcher"].spans;
  ASSERT_EQ(spans.size(), 2u);
  // Each step has its own instance (key "<run>/<step>"), so the two branches are not serialized.
  EXPECT_LT(std::max(spans[0].first, spans[1].first), std::min(spans[0].second, spans[1].second));
}

TEST_F(WorkflowEngineTest, ARunInProgressCannotBeResumedASecondTime) {
  agent("slow", [](const Message&, AgentContext& c, int) -> asio::awaitable<json> {
    co_await sleep_unless_stopped(600ms, c);
    co_return reply("finished", 1, 1);
  });
  std::thread first([this] {
    start("name: slow-run\nagents: {slow: {kind: echo}}\ntasks: {work: {description: wait, agent: slow}}\n");
  });
  std::string run_id;
  for (int i = 0; i < 200 && run_id.empty(); ++i) {
    std::this_thread::sleep_for(5ms);
    auto runs = store_.list_runs();
    if (!runs.empty() && probes_["slow"].calls() > 0) run_id = runs[0].id;
  }
  ASSERT_FALSE(run_id.empty());
  try {
    engine_.resume(run_id);
    ADD_FAILURE() << "a second execution of a running run was started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is still running here"), std::string::npos) << e.what();
  }
  first.join();
  EXPECT_EQ(store_.find_run(run_id)->state, "done");
  EXPECT_EQ(probes_["slow"].calls(), 1);
}

TEST_F(WorkflowEngineTest, ParallelBranchesRunConcurrentlyAndJoin) {
  for (std::string name : {"searcher_a", "searcher_b", "searcher_c"})
    agent(name, [name](const Message&, AgentContext& c, int) -> asio::awaitable<json> {
      co_await sleep_unless_stopped(300ms, c);
      co_return reply("found by " + name, 1, 1);
    });
  auto& joiner = agent("joiner", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply(static_cast<int>(TaskRequest::from_json(m.payload).context.size()));
  });
  const auto started = SteadyClock::now();
  RunRecord run = start(R"Y(
name: fan-out
agents:
  searcher_a: {kind: echo}
  searcher_b: {kind: echo}
  searcher_c: {kind: echo}
  joiner: {kind: echo}
tasks:
  a: {description: "search a", agent: searcher_a}
  b: {description: "search b", agent: searcher_b}
  c: {description: "search c", agent: searcher_c}
  join: {description: "combine", agent: joiner, context: [a, b, c]}
flow:
  start: fan
  steps:
    fan: {parallel: [a, b, c], next: join}
    a: {}
    b: {}
    c: {}
    join: {}
)Y");
  const auto elapsed = SteadyClock::now() - started;
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(run.outputs["fan"], json({{"a", "found by searcher_a"}, {"b", "found by searcher_b"},
                                      {"c", "found by searcher_c"}}));
  EXPECT_EQ(run.outputs["a"], "found by searcher_a");
  EXPECT_EQ(run.outputs["join"], 3);
  EXPECT_EQ(joiner.calls(), 1);
  // Every branch started before any finished: they overlapped.
  SteadyClock::time_point last_start{}, first_end = SteadyClock::time_point::max();
  for (std::string name : {"searcher_a", "searcher_b", "searcher_c"}) {
    ASSERT_EQ(probes_[name].spans.size(), 1u);
    last_start = std::max(last_start, probes_[name].spans[0].first);
    first_end = std::min(first_end, probes_[name].spans[0].second);
  }
  EXPECT_LT(last_start, first_end);
  EXPECT_LT(elapsed, 850ms);
  EXPECT_EQ(run.prompt_tokens, 3);
  EXPECT_EQ(store_.find_step(run.id, "fan", 1)->state, "done");
}

TEST_F(WorkflowEngineTest, FailedBranchFailsTheParallelStep) {
  constant("searcher_a", "ok");
  agent("searcher_b", [](const Message&, AgentContext&, int) -> asio::awaitable<json> {
    throw AgentError(StatusCode::failed, "search engine down");
    co_return json();
  });
  auto& joiner = constant("joiner", "never");
  RunRecord run = start(R"Y(
name: fan-out
agents:
  searcher_a: {kind: echo}
  searcher_b: {kind: echo}
  joiner: {kind: echo}
tasks:
  a: {description: "search a", agent: searcher_a}
  b: {description: "search b", agent: searcher_b}
  join: {description: "combine", agent: joiner}
flow:
  steps:
    fan: {parallel: [a, b], next: join}
    a: {}
    b: {}
    join: {}
)Y");
  EXPECT_EQ(run.state, "failed");
  EXPECT_NE(run.error.find("step b#1 failed after 1 attempt: failed: search engine down"), std::string::npos)
      << run.error;
  EXPECT_EQ(joiner.calls(), 0);
  EXPECT_EQ(store_.find_step(run.id, "fan", 1)->state, "failed");
  EXPECT_EQ(store_.find_step(run.id, "a", 1)->state, "done");
}

TEST_F(WorkflowEngineTest, RetriesWithExponentialBackoffThenSucceeds) {
  auto& flaky = agent("flaky", [](const Message&, AgentContext&, int call) -> asio::awaitable<json> {
    if (call <= 2) throw AgentError(StatusCode::unavailable, "worker w2 disconnected");
    co_return reply("third time lucky");
  });
  RunRecord run = start(R"Y(
name: flaky
budgets: {backoff_s: 0.1}
agents:
  flaky: {kind: echo}
tasks:
  solve: {description: "solve it", agent: flaky}
flow:
  steps:
    solve: {retries: 2}
)Y");
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(run.outputs["solve"], "third time lucky");
  ASSERT_EQ(flaky.calls(), 3);
  // Every attempt is the same effect scope, and the waits double: >= 0.1 s, then >= 0.2 s.
  for (const auto& m : flaky.messages) EXPECT_EQ(m.metadata.at(std::string(kEffectScopeKey)), "solve#1");
  EXPECT_EQ(store_.find_step(run.id, "solve", 1)->attempts, 3);
  auto logs = events_of("log");
  ASSERT_EQ(logs.size(), 2u);
  auto times = [&](size_t i) { return logs[i].time_unix_ms; };
  auto messages = events_of("message");
  std::vector<double> sent;
  for (const auto& m : messages)
    if (m.data["direction"] == "request") sent.push_back(m.time_unix_ms);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_GE(sent[1] - sent[0], 95);
  EXPECT_GE(sent[2] - sent[1], 195);
  EXPECT_LT(times(0), sent[1]);
}

TEST_F(WorkflowEngineTest, RetriesExhaustedNameTheStepAttemptsAndStatus) {
  auto& broken = agent("solver", [](const Message&, AgentContext&, int) -> asio::awaitable<json> {
    throw AgentError(StatusCode::unavailable, "worker w2 disconnected");
    co_return json();
  });
  RunRecord run = start(R"Y(
name: broken
budgets: {retries: 1, backoff_s: 0.01}
agents:
  solver: {kind: echo}
tasks:
  solve: {description: "solve it", agent: solver}
)Y");
  EXPECT_EQ(run.state, "failed");
  EXPECT_EQ(run.error, "step solve#1 failed after 2 attempts: unavailable: worker w2 disconnected");
  EXPECT_EQ(broken.calls(), 2);
  auto step = store_.find_step(run.id, "solve", 1);
  EXPECT_EQ(step->state, "failed");
  EXPECT_EQ(step->error, run.error);
  EXPECT_EQ(store_.find_run(run.id)->error, run.error);
}

TEST_F(WorkflowEngineTest, StepTimeoutIsRetriedAndReported) {
  auto& slow = agent("slow", [](const Message&, AgentContext& c, int call) -> asio::awaitable<json> {
    if (call == 1) co_await sleep_unless_stopped(3000ms, c);
    co_return reply("quick the second time");
  });
  const auto started = SteadyClock::now();
  RunRecord run = start(R"Y(
name: slow
budgets: {step_timeout_s: 0.2, backoff_s: 0.01}
agents:
  slow: {kind: echo}
tasks:
  think: {description: "think", agent: slow}
flow:
  steps:
    think: {retries: 1}
)Y");
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_LT(SteadyClock::now() - started, 2000ms);
  EXPECT_EQ(slow.calls(), 2);
  auto logs = events_of("log");
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs[0].data["message"].get<std::string>().find("deadline_exceeded"), std::string::npos);
}

TEST_F(WorkflowEngineTest, StepTimeoutWithoutRetriesFailsTheRun) {
  agent("slow", [](const Message&, AgentContext& c, int) -> asio::awaitable<json> {
    co_await sleep_unless_stopped(3000ms, c);
    co_return reply("too late");
  });
  const auto started = SteadyClock::now();
  RunRecord run = start(R"Y(
name: slow
agents:
  slow: {kind: echo}
tasks:
  think: {description: "think", agent: slow}
flow:
  steps:
    think: {timeout_s: 0.2}
)Y");
  EXPECT_EQ(run.state, "failed");
  EXPECT_LT(SteadyClock::now() - started, 2000ms);
  EXPECT_EQ(run.error.rfind("step think#1 failed after 1 attempt: deadline_exceeded", 0), 0u) << run.error;
}

TEST_F(WorkflowEngineTest, OutputSchemaIsEnforcedWithoutRetrying) {
  constant("judge", R"Y({"verdict": "approve"})Y");  // JSON as text, as models answer
  auto& sloppy = constant("sloppy", json{{"verdict", "maybe"}});
  RunRecord run = start(R"Y(
name: schema
budgets: {retries: 2, backoff_s: 0.01}
agents:
  judge: {kind: echo}
  sloppy: {kind: echo}
tasks:
  first:
    description: "judge"
    agent: judge
    output_schema:
      type: object
      required: [verdict]
      properties:
        verdict: {enum: [approve, revise]}
  second:
    description: "judge again"
    agent: sloppy
    output_schema:
      type: object
      required: [verdict]
      properties:
        verdict: {enum: [approve, revise]}
)Y");
  EXPECT_EQ(run.state, "failed");
  EXPECT_NE(run.error.find("step second#1 failed after 1 attempt: invalid_argument: the output of task 'second' does "
                           "not match its output_schema"),
            std::string::npos)
      << run.error;
  EXPECT_NE(run.error.find("/verdict"), std::string::npos) << run.error;
  EXPECT_EQ(sloppy.calls(), 1);  // the same recorded answer would fail again
  // The valid text answer became the JSON value it spells.
  EXPECT_EQ(store_.find_step(run.id, "first", 1)->output, json({{"verdict", "approve"}}));
}

TEST_F(WorkflowEngineTest, TokenBudgetStopsTheRun) {
  constant("a", "one");
  auto& b = constant("b", "two");
  auto& c = constant("c", "three");
  RunRecord run = start(R"Y(
name: budget
budgets: {max_tokens: 25}
agents:
  a: {kind: echo}
  b: {kind: echo}
  c: {kind: echo}
tasks:
  one: {description: "1", agent: a}
  two: {description: "2", agent: b}
  three: {description: "3", agent: c}
)Y");
  EXPECT_EQ(run.state, "failed");
  EXPECT_EQ(run.error.rfind("resource_exhausted: token budget exceeded after step two#1: 30 tokens used", 0), 0u)
      << run.error;
  EXPECT_EQ(b.request(0).tokens_left, 10);
  EXPECT_EQ(c.calls(), 0);
  EXPECT_EQ(events_of("budget_exceeded").size(), 1u);
  EXPECT_EQ(run.prompt_tokens + run.completion_tokens, 30);
}

const char* kApproval = R"Y(
name: approval
agents:
  drafter: {kind: echo}
  publisher: {kind: echo}
tasks:
  draft: {description: "draft", agent: drafter}
  publish: {description: "publish ({outputs.approve})", agent: publisher}
flow:
  steps:
    draft: {next: approve}
    approve:
      human_input: {prompt: "Publish {outputs.draft}?", key: approval}
      next:
        - when: "outputs.approve == 'yes'"
          goto: publish
    publish: {}
)Y";

TEST_F(WorkflowEngineTest, HumanInputWaitsThenResumeAnswers) {
  auto& drafter = constant("drafter", "the draft");
  auto& publisher = agent("publisher", [](const Message& m, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply(TaskRequest::from_json(m.payload).description);
  });
  RunRecord run = start(kApproval);
  ASSERT_EQ(run.state, "waiting") << run.error;
  EXPECT_EQ(run.error, "waiting for input 'approval': chorus runs resume " + run.id + " --input approval=VALUE");
  auto asked = events_of("human_input_requested");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].data["prompt"], "Publish the draft?");
  EXPECT_EQ(store_.find_step(run.id, "approve", 1)->state, "waiting");
  EXPECT_EQ(publisher.calls(), 0);

  EXPECT_THROW(engine_.resume(run.id, {{"aproval", "yes"}}), std::invalid_argument);
  // Without an answer it waits again.
  EXPECT_EQ(engine_.resume(run.id).state, "waiting");

  RunRecord resumed = engine_.resume(run.id.substr(0, 8), {{"approval", "yes"}}, sink());
  ASSERT_EQ(resumed.state, "done") << resumed.error;
  EXPECT_EQ(resumed.id, run.id);
  EXPECT_EQ(resumed.outputs["approve"], "yes");
  EXPECT_EQ(resumed.outputs["publish"], "publish (yes)");
  EXPECT_EQ(drafter.calls(), 1);  // from its checkpoint
  EXPECT_EQ(publisher.calls(), 1);

  try {
    engine_.resume(run.id);
    FAIL() << "resuming a done run must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "run " + run.id + " is done; nothing to resume (`chorus runs replay " + run.id +
                                         "` re-executes it)");
  }
}

// The third step's agent performs a journaled effect (a counter a repeat would advance) and then fails while
// `broken` is set: the run fails; resumed with the agent fixed, steps 1-2 come from checkpoints and the effect of
// the failed attempt is reused rather than performed again.
TEST_F(WorkflowEngineTest, ResumeAfterACrashReusesCheckpointsAndEffects) {
  std::atomic<bool> broken{true};
  std::atomic<int> counter{0};
  auto& first = constant("first", "one");
  auto& second = constant("second", "two");
  auto& third = agent("third", [&](const Message& m, AgentContext& c, int) -> asio::awaitable<json> {
    json value = run_once(c.journal(), c.next_effect_key("tool"), "tool", json{{"name", "counter"}},
                          [&] { return json(++counter); });
    if (broken) throw std::runtime_error("agent crashed after its tool call");
    co_return reply("three after effect " + value.dump() + " for " + TaskRequest::from_json(m.payload).description);
  });
  const std::string yaml = R"Y(
name: crashy
agents:
  first: {kind: echo}
  second: {kind: echo}
  third: {kind: echo}
tasks:
  one: {description: "1", agent: first}
  two: {description: "2", agent: second}
  three: {description: "3 after {outputs.two}", agent: third}
)Y";
  RunRecord run = start(yaml);
  ASSERT_EQ(run.state, "failed");
  EXPECT_EQ(run.error, "step three#1 failed after 1 attempt: failed: agent crashed after its tool call");
  EXPECT_EQ(counter, 1);
  auto effects = store_.list_effects(run.id);
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_EQ(effects[0].key, "three#1/tool#1");
  auto tool_events = events_of("tool_call");
  ASSERT_EQ(tool_events.size(), 1u);
  EXPECT_EQ(tool_events[0].step, "three");
  EXPECT_EQ(tool_events[0].iteration, 1);
  EXPECT_EQ(tool_events[0].data["name"], "counter");

  // As if the process had died mid-run: the run is left "running".
  RunRecord crashed = *store_.find_run(run.id);
  crashed.state = "running";
  store_.update_run(crashed);

  broken = false;
  events_.clear();
  RunRecord resumed = engine_.resume(run.id, {}, sink());
  ASSERT_EQ(resumed.state, "done") << resumed.error;
  EXPECT_EQ(resumed.outputs["three"], "three after effect 1 for 3 after two");
  EXPECT_EQ(first.calls(), 1);
  EXPECT_EQ(second.calls(), 1);
  EXPECT_EQ(third.calls(), 2);
  EXPECT_EQ(counter, 1);  // not performed again
  int from_checkpoint = 0;
  for (const auto& e : events_of("step_finished"))
    if (e.data.value("from_checkpoint", false)) ++from_checkpoint;
  EXPECT_EQ(from_checkpoint, 2);
  EXPECT_EQ(resumed.prompt_tokens, 20);  // the checkpoints' tokens count towards the run
}

const char* kCounterWorkflow = R"Y(
name: counting
agents:
  counter: {kind: echo}
tasks:
  count: {description: "count", agent: counter}
)Y";

TEST_F(WorkflowEngineTest, ReplayReusesRecordedEffectsAndMatches) {
  std::atomic<int> counter{0};
  auto& probe = agent("counter", [&](const Message&, AgentContext& c, int) -> asio::awaitable<json> {
    json value = run_once(c.journal(), c.next_effect_key("tool"), "tool", json{{"name", "counter"}},
                          [&] { return json(++counter); });
    co_return reply("value " + value.dump());
  });
  RunRecord original = start(kCounterWorkflow);
  ASSERT_EQ(original.state, "done") << original.error;
  EXPECT_EQ(original.outputs["count"], "value 1");

  events_.clear();
  RunRecord replayed = engine_.replay(original.id, sink());
  ASSERT_EQ(replayed.state, "done") << replayed.error;
  EXPECT_NE(replayed.id, original.id);
  EXPECT_EQ(replayed.replay_of, original.id);
  EXPECT_EQ(replayed.outputs, original.outputs);
  EXPECT_EQ(counter, 1);  // the recording answered
  EXPECT_EQ(probe.calls(), 2);
  EXPECT_EQ(probe.messages[1].recipient->key, replayed.id + "/count");  // a fresh instance for the replay
  auto tool_events = events_of("tool_call");
  ASSERT_EQ(tool_events.size(), 1u);
  EXPECT_TRUE(tool_events[0].data.value("replayed", false));
  EXPECT_EQ(store_.list_effects(replayed.id).size(), 1u);

  // Only done runs replay.
  RunRecord waiting = original;
  waiting.state = "failed";
  store_.update_run(waiting);
  EXPECT_THROW(engine_.replay(original.id), std::runtime_error);
}

TEST_F(WorkflowEngineTest, ReplayDivergenceIsReported) {
  std::atomic<int> unjournaled{0};
  agent("counter", [&](const Message&, AgentContext&, int) -> asio::awaitable<json> {
    co_return reply("value " + std::to_string(++unjournaled));  // not through the journal: differs on replay
  });
  RunRecord original = start(kCounterWorkflow);
  ASSERT_EQ(original.state, "done") << original.error;
  RunRecord replayed = engine_.replay(original.id);
  EXPECT_EQ(replayed.state, "failed");
  EXPECT_EQ(replayed.error,
            "replay differs from run " + original.id + " at step count: recorded value 1, replay gave value 2");
}

}  // namespace
}  // namespace chorus::runtime
