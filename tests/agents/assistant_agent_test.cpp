// The assistant agent on a real LocalRuntime with the scripted provider and real tools: answers, tool calls
// (single, concurrent, malformed, unknown), max_iter, output_schema retries, token budget, and the effect
// journal (recorded effects are not repeated; a replay that asks for something new diverges).
#include "agents/agent-kinds.h"
#include "agents/assistant-agent.h"
#include "agents/scripted-provider.h"
#include "runtime/agent-error.h"
#include "runtime/local-runtime.h"
#include "runtime/task-message.h"
#include "tools/calculator.h"

#include "tests/support/memory-journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace chorus::agents {
namespace {

using nlohmann::json;
using runtime::AgentError;
using runtime::StatusCode;
using chorus::testing::MemoryJournal;

// A tool that counts its runs and sleeps `ms` (to see concurrent calls overlap).
tools::Tool counting_tool(std::string name, std::atomic<int>* runs, int ms) {
  tools::Tool t;
  t.spec.name = std::move(name);
  t.spec.description = "Echoes its text after a pause";
  t.spec.parameters = {{"type", "object"},
                       {"properties", {{"text", {{"type", "string"}}}}},
                       {"required", {"text"}},
                       {"additionalProperties", false}};
  t.handler = [runs, ms](const json& args) {
    ++*runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return json{{"echo", args["text"]}};
  };
  return t;
}

json tool_call(const std::string& name, json arguments) {
  return {{"name", name}, {"arguments", arguments}};
}

// One assistant agent ("helper") on a LocalRuntime, its scripted provider and the run's journal.
class Harness {
 public:
  Harness(json responses, json spec_overrides = json::object(),
          std::shared_ptr<MemoryJournal> journal = nullptr, ToolLoopStyle style = ToolLoopStyle::assistant)
      : journal_(journal ? std::move(journal) : std::make_shared<MemoryJournal>()) {
    auto registry = std::make_shared<tools::ToolRegistry>();
    registry->add(tools::make_calculator_tool());
    registry->add(counting_tool("slow_echo", &slow_runs, 300));
    registry->add(counting_tool("echo", &echo_runs, 0));
    tools_ = registry;
    provider =
        std::make_shared<ScriptedProvider>(json{{"provider", "scripted"}, {"responses", responses}}, "");
    spec = {{"name", "helper"},
            {"kind", "assistant"},
            {"role", "a careful analyst"},
            {"goal", "answer exactly"},
            {"instructions", "Show no work."},
            {"llm", {{"provider", "scripted"}}},
            {"tools", {"calculator", "slow_echo", "echo"}},
            {"max_iter", 4},
            {"options", json::object()}};
    for (auto& [key, value] : spec_overrides.items()) spec[key] = value;
    runtime_.register_factory(
        "helper", [this, style](const runtime::AgentId&) { return make_assistant_agent(spec, provider, tools_, style); });
    runtime_.set_journal_provider([this](const runtime::Message&) { return journal_; });
  }

  // Sends `payload` as one workflow step; `scope` names the step's effects in the journal ("<scope>/llm#1",
  // ...).
  // A positive `deadline` gives the message that long from now.
  json ask(json payload, const std::string& scope = "step",
           std::chrono::milliseconds deadline = std::chrono::milliseconds(0)) {
    runtime::Message m = runtime::make_request(runtime::AgentId{"helper", "default"}, std::move(payload));
    m.trace_id = "run-1";
    if (deadline.count() > 0) m.deadline = std::chrono::system_clock::now() + deadline;
    m.metadata[std::string(runtime::kEffectScopeKey)] = scope;
    return runtime_.send_and_wait(std::move(m));
  }

  // The request the model got on call `i` (0-based).
  LlmRequest request(size_t i) const {
    auto all = provider->received();
    if (i >= all.size())
      throw std::out_of_range("the model was called " + std::to_string(all.size()) + " times");
    return all[i];
  }

  MemoryJournal& journal() { return *journal_; }

  std::atomic<int> slow_runs{0};
  std::atomic<int> echo_runs{0};
  std::shared_ptr<ScriptedProvider> provider;
  json spec;

 private:
  std::shared_ptr<MemoryJournal> journal_;
  std::shared_ptr<const tools::ToolRegistry> tools_;
  runtime::LocalRuntime runtime_;  // last: destroyed first, while everything its agents use still exists
};

json task(const std::string& description, json schema = nullptr) {
  runtime::TaskRequest r;
  r.task = "t1";
  r.description = description;
  r.expected_output = "a short answer";
  r.output_schema = std::move(schema);
  return r.to_json();
}

// Runs `f`, expecting an AgentError; returns it.
template <class F>
AgentError agent_error(F&& f) {
  try {
    f();
  } catch (const AgentError& e) {
    return e;
  }
  return AgentError(StatusCode::ok, "(no error)");
}

TEST(AssistantAgent, PlainAnswerWithPromptsAndToolsSent) {
  Harness h(json::array({"Paris"}));
  runtime::TaskRequest r;
  r.task = "capital";
  r.description = "What is the capital of France?";
  r.expected_output = "one city name";
  r.context.push_back({"research", json{{"country", "France"}}});
  auto reply = runtime::TaskReply::from_json(h.ask(r.to_json()));
  EXPECT_EQ(reply.output, "Paris");
  EXPECT_EQ(reply.turns, 1);
  EXPECT_GT(reply.prompt_tokens, 0);
  EXPECT_EQ(reply.completion_tokens, 1);  // "Paris": 5 characters / 4

  LlmRequest sent = h.request(0);
  ASSERT_EQ(sent.messages.size(), 2u);
  EXPECT_EQ(sent.messages[0].role, "system");
  EXPECT_NE(sent.messages[0].content.find("You are a careful analyst."), std::string::npos);
  EXPECT_NE(sent.messages[0].content.find("Your goal: answer exactly"), std::string::npos);
  EXPECT_NE(sent.messages[0].content.find("Show no work."), std::string::npos);
  EXPECT_NE(sent.messages[0].content.find("calculator, slow_echo, echo"), std::string::npos);
  EXPECT_EQ(sent.messages[1].role, "user");
  EXPECT_NE(sent.messages[1].content.find("What is the capital of France?"), std::string::npos);
  EXPECT_NE(sent.messages[1].content.find("## research"), std::string::npos);
  EXPECT_NE(sent.messages[1].content.find("\"country\": \"France\""), std::string::npos);
  EXPECT_NE(sent.messages[1].content.find("Expected output: one city name"), std::string::npos);
  ASSERT_EQ(sent.tools.size(), 3u);
  EXPECT_EQ(sent.tools[0]["type"], "function");
  EXPECT_EQ(sent.tools[0]["function"]["name"], "calculator");
  EXPECT_TRUE(sent.tools[0]["function"]["parameters"].is_object());
}

TEST(AssistantAgent, ChatPayloadsAndNoSystemMessageWithoutPromptParts) {
  Harness h(json::array({"hello", "hello"}),
            {{"role", ""}, {"goal", ""}, {"instructions", ""}, {"tools", json::array()}});
  EXPECT_EQ(runtime::TaskReply::from_json(h.ask({{"content", "hi"}}, "chat-1")).output, "hello");
  EXPECT_EQ(runtime::TaskReply::from_json(h.ask("hi again", "chat-2")).output, "hello");
  LlmRequest sent = h.request(1);
  ASSERT_EQ(sent.messages.size(), 1u);
  EXPECT_EQ(sent.messages[0].role, "user");
  EXPECT_EQ(sent.messages[0].content, "hi again");
  EXPECT_TRUE(sent.tools.empty());
  auto bad = agent_error([&] { h.ask(json{{"question", 1}}, "chat-3"); });
  EXPECT_EQ(bad.code(), StatusCode::invalid_argument);
  EXPECT_NE(std::string(bad.what()).find("expected a task request"), std::string::npos) << bad.what();
}

TEST(AssistantAgent, OneToolCallThenAnswer) {
  Harness h(
      json::array({json{{"tool_calls", {tool_call("calculator", {{"expression", "6*7"}})}}}, "It is 42."}));
  auto reply = runtime::TaskReply::from_json(h.ask(task("What is 6 times 7?")));
  EXPECT_EQ(reply.output, "It is 42.");
  EXPECT_EQ(reply.turns, 2);

  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.size(), 4u);
  EXPECT_EQ(second.messages[2].role, "assistant");
  ASSERT_EQ(second.messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(second.messages[2].tool_calls[0].name, "calculator");
  EXPECT_EQ(second.messages[3].role, "tool");
  EXPECT_EQ(second.messages[3].tool_call_id, second.messages[2].tool_calls[0].id);
  EXPECT_EQ(second.messages[3].name, "calculator");
  EXPECT_EQ(json::parse(second.messages[3].content)["result"], 42);

  auto records = h.journal().records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records["step/llm#1"].kind, "llm");
  EXPECT_EQ(records["step/tool#2"].kind, "tool");
  EXPECT_EQ(records["step/tool#2"].request["name"], "calculator");
  EXPECT_EQ(records["step/tool#2"].result["status"], "ok");
  EXPECT_EQ(records["step/llm#3"].result["content"], "It is 42.");
}

TEST(AssistantAgent, TwoToolCallsInOneResponseRunConcurrentlyAndBothReachTheModel) {
  Harness h(json::array(
      {json{{"tool_calls",
             {tool_call("slow_echo", {{"text", "first"}}), tool_call("slow_echo", {{"text", "second"}})}}},
       "done"}));
  auto start = std::chrono::steady_clock::now();
  auto reply = runtime::TaskReply::from_json(h.ask(task("echo twice")));
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(reply.output, "done");
  EXPECT_EQ(h.slow_runs.load(), 2);
  EXPECT_LT(elapsed, std::chrono::milliseconds(580)) << "two 300 ms calls should overlap";

  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.size(), 5u);
  EXPECT_EQ(second.messages[3].tool_call_id, second.messages[2].tool_calls[0].id);
  EXPECT_EQ(json::parse(second.messages[3].content)["echo"], "first");
  EXPECT_EQ(second.messages[4].tool_call_id, second.messages[2].tool_calls[1].id);
  EXPECT_EQ(json::parse(second.messages[4].content)["echo"], "second");
  // Keys were assigned in call order before the calls ran.
  auto records = h.journal().records();
  EXPECT_EQ(records["step/tool#2"].request["arguments_text"], R"({"text":"first"})");
  EXPECT_EQ(records["step/tool#3"].request["arguments_text"], R"({"text":"second"})");
  EXPECT_TRUE(records.count("step/llm#4"));
}

TEST(AssistantAgent, MalformedArgumentsGoBackToTheModelAndTheLoopContinues) {
  Harness h(json::array({json{{"tool_calls", {tool_call("calculator", "{\"expression\": ")}}},
                         json{{"tool_calls", {tool_call("calculator", {{"expr", "1+1"}})}}}, "gave up"}));
  auto reply = runtime::TaskReply::from_json(h.ask(task("add")));
  EXPECT_EQ(reply.output, "gave up");
  EXPECT_EQ(reply.turns, 3);
  std::string parse_error = h.request(1).messages.back().content;
  EXPECT_NE(parse_error.find("Error: invalid arguments for tool 'calculator'"), std::string::npos)
      << parse_error;
  EXPECT_NE(parse_error.find("not valid JSON"), std::string::npos) << parse_error;
  std::string schema_error = h.request(2).messages.back().content;
  EXPECT_NE(schema_error.find("invalid arguments"), std::string::npos) << schema_error;
  EXPECT_NE(schema_error.find("expression"), std::string::npos) << schema_error;
}

TEST(AssistantAgent, UnknownToolInACallIsReportedToTheModel) {
  // web_search is not one of this agent's tools; echo is in the registry but not given to this agent.
  Harness h(
      json::array({json{{"tool_calls",
                         {tool_call("web_search", {{"query", "x"}}), tool_call("echo", {{"text", "x"}})}}},
                   "ok"}),
      {{"tools", {"calculator"}}});
  EXPECT_EQ(runtime::TaskReply::from_json(h.ask(task("search"))).output, "ok");
  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.size(), 5u);
  EXPECT_EQ(second.messages[3].content, "Error: unknown tool 'web_search'; available tools: calculator");
  EXPECT_EQ(second.messages[4].content, "Error: unknown tool 'echo'; available tools: calculator");
  EXPECT_EQ(h.echo_runs.load(), 0);
}

TEST(AssistantAgent, MaxIterReachedWithToolCallsStillComing) {
  json call = json{{"tool_calls", {tool_call("echo", {{"text", "again"}})}}};
  Harness h(json::array({call, call, call}), {{"max_iter", 2}});
  auto error = agent_error([&] { h.ask(task("loop forever")); });
  EXPECT_EQ(error.code(), StatusCode::resource_exhausted);
  EXPECT_NE(std::string(error.what()).find("agent 'helper': max_iter 2 reached"), std::string::npos)
      << error.what();
  EXPECT_EQ(h.provider->received().size(), 2u);
}

TEST(AssistantAgent, OutputSchemaInvalidThenValid) {
  json schema = {
      {"type", "object"}, {"properties", {{"answer", {{"type", "string"}}}}}, {"required", {"answer"}}};
  Harness h(json::array({"{\"answer\": 5}", "Sure:\n```json\n{\"answer\": \"five\"}\n```"}));
  auto reply = runtime::TaskReply::from_json(h.ask(task("count", schema)));
  EXPECT_EQ(reply.output, (json{{"answer", "five"}}));
  EXPECT_EQ(reply.turns, 2);
  EXPECT_NE(h.request(0).messages.back().content.find("matching this JSON Schema"), std::string::npos);
  LlmRequest retry = h.request(1);
  ASSERT_EQ(retry.messages.size(), 4u);
  EXPECT_EQ(retry.messages[2].content, "{\"answer\": 5}");
  EXPECT_EQ(retry.messages[3].role, "user");
  EXPECT_NE(retry.messages[3].content.find("/answer"), std::string::npos) << retry.messages[3].content;
}

TEST(AssistantAgent, OutputSchemaNeverMetExhaustsMaxIter) {
  json schema = {{"type", "object"}, {"required", {"answer"}}};
  Harness h(json::array({"no json here", "still none"}), {{"max_iter", 2}});
  auto error = agent_error([&] { h.ask(task("count", schema)); });
  EXPECT_EQ(error.code(), StatusCode::resource_exhausted);
  EXPECT_NE(std::string(error.what()).find("without an answer matching output_schema"), std::string::npos)
      << error.what();
  EXPECT_NE(std::string(error.what()).find("no JSON"), std::string::npos) << error.what();
}

TEST(AssistantAgent, TokenBudgetExhausted) {
  Harness h(json::array(
      {json{{"content", "long"}, {"usage", {{"prompt_tokens", 80}, {"completion_tokens", 30}}}}}));
  json request = task("spend");
  request["tokens_left"] = 100;
  auto error = agent_error([&] { h.ask(request); });
  EXPECT_EQ(error.code(), StatusCode::resource_exhausted);
  EXPECT_NE(std::string(error.what()).find("110 tokens used, 100 were left"), std::string::npos)
      << error.what();
}

TEST(AssistantAgent, ProviderErrorsFailTheMessageNamingTheProvider) {
  Harness h(json::array({json{{"error", "quota exceeded"}}}));
  auto error = agent_error([&] { h.ask(task("x")); });
  EXPECT_EQ(error.code(), StatusCode::failed);
  EXPECT_NE(std::string(error.what()).find("agent 'helper' (scripted): quota exceeded"), std::string::npos)
      << error.what();
  EXPECT_TRUE(h.journal().records().empty());
}

TEST(AssistantAgent, RecordedEffectsAreNotRepeated) {
  auto journal = std::make_shared<MemoryJournal>();
  // A crashed run got as far as the first model call and its tool call.
  journal->put(
      "step/llm#1", "llm",
      json{{"content", ""},
           {"tool_calls", {{{"id", "call_1_1"}, {"name", "echo"}, {"arguments", R"({"text":"hi"})"}}}},
           {"finish_reason", "tool_calls"},
           {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}}},
           {"model", "scripted"},
           {"elapsed_ms", 1.0}});
  journal->put("step/tool#2", "tool",
               json{{"status", "ok"}, {"result", {{"echo", "recorded"}}}, {"elapsed_ms", 1.0}});
  Harness h(json::array({"not used: turn 0 is in the journal", "final"}), json::object(), journal);
  auto reply = runtime::TaskReply::from_json(h.ask(task("resume me")));
  EXPECT_EQ(reply.output, "final");
  EXPECT_EQ(reply.turns, 2);
  EXPECT_GT(reply.prompt_tokens, 10);            // the recorded call's usage counts, plus the new call's
  EXPECT_EQ(h.echo_runs.load(), 0);              // the tool was not run again
  ASSERT_EQ(h.provider->received().size(), 1u);  // only the call after the journal's end reached the model
  LlmRequest resumed = h.request(0);
  ASSERT_EQ(resumed.messages.size(), 4u);
  EXPECT_EQ(json::parse(resumed.messages[3].content)["echo"], "recorded");
  EXPECT_TRUE(h.journal().records().count("step/llm#3"));
}

TEST(AssistantAgent, ReplayWithAMissingEffectDiverges) {
  auto journal = std::make_shared<MemoryJournal>(/*replaying=*/true);
  journal->put("step/llm#1", "llm",
               json{{"content", ""},
                    {"tool_calls", {{{"id", "c1"}, {"name", "echo"}, {"arguments", R"({"text":"hi"})"}}}},
                    {"finish_reason", "tool_calls"},
                    {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 1}}},
                    {"model", "scripted"},
                    {"elapsed_ms", 0.0}});
  Harness h(json::array({"unused", "unused"}), json::object(), journal);
  auto error = agent_error([&] { h.ask(task("replay me")); });
  EXPECT_EQ(error.code(), StatusCode::failed);
  EXPECT_NE(std::string(error.what()).find("replay diverged"), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("step/tool#2"), std::string::npos) << error.what();
  EXPECT_EQ(h.echo_runs.load(), 0);
  EXPECT_TRUE(h.provider->received().empty());
}

TEST(AssistantAgent, UnknownToolInSettingsFailsAtConstruction) {
  auto registry = std::make_shared<tools::ToolRegistry>();
  registry->add(tools::make_calculator_tool());
  auto provider =
      std::make_shared<ScriptedProvider>(json{{"provider", "scripted"}, {"responses", {"x"}}}, "");
  try {
    make_assistant_agent({{"name", "helper"}, {"tools", {"calculator", "calculater"}}}, provider, registry);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "agent 'helper': unknown tool 'calculater'; available tools: calculator");
  }
  EXPECT_THROW(make_assistant_agent({{"name", "helper"}, {"max_iter", 0}}, provider, registry),
               std::invalid_argument);
}

TEST(AssistantAgent, KindIsRegisteredAndNeedsAnLlmSection) {
  runtime::AgentKindRegistry kinds;
  add_llm_agent_kinds(kinds, std::make_shared<tools::ToolRegistry>(), "");
  const runtime::AgentKind* kind = kinds.find("assistant");
  ASSERT_NE(kind, nullptr);
  EXPECT_TRUE(kind->needs_llm);
  EXPECT_FALSE(kind->description.empty());
  EXPECT_THROW(kind->factory(json{{"name", "helper"}}, runtime::AgentId{"helper", "default"}),
               std::invalid_argument);
  auto agent =
      kind->factory(json{{"name", "helper"}, {"llm", {{"provider", "scripted"}, {"responses", {"hi"}}}}},
                    runtime::AgentId{"helper", "default"});
  EXPECT_NE(agent, nullptr);
  try {
    kind->factory(
        json{{"name", "helper"}, {"llm", {{"provider", "scripted"}, {"responses", {"hi"}}, {"x", 1}}}},
        runtime::AgentId{"helper", "default"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'x'"), std::string::npos) << e.what();
  }
}

TEST(AssistantAgent, DeadlineStopsASlowModelCallAndFreesTheInstance) {
  auto h = std::make_unique<Harness>(json::array({"unused"}));
  // "slow" tasks get an answer after 5 s; others at once.
  h->provider = std::make_shared<ScriptedProvider>(
      json{{"provider", "scripted"},
           {"script", {{{"match", "slow"}, {"responses", {{{"content", "late"}, {"delay_ms", 5000}}}}}}},
           {"responses", {"quick"}}},
      "");
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };

  auto start = Clock::now();
  auto error = agent_error([&] { h->ask(task("a slow one"), "slow", std::chrono::milliseconds(300)); });
  EXPECT_EQ(error.code(), StatusCode::deadline_exceeded) << error.what();
  EXPECT_GE(ms_since(start), 250);
  EXPECT_LT(ms_since(start), 1500);

  // The same instance answers the next message without waiting out the abandoned call.
  start = Clock::now();
  EXPECT_EQ(h->ask(task("a quick one"), "quick", std::chrono::milliseconds(3000))["output"], "quick");
  EXPECT_LT(ms_since(start), 1500);

  // Nothing was journaled for the abandoned call; the answered one was.
  const auto records = h->journal().records();
  EXPECT_EQ(records.count("slow/llm#1"), 0u);
  EXPECT_EQ(records.count("quick/llm#1"), 1u);

  // Destroying the runtime right after another abandoned slow call does not wait for it either.
  error = agent_error([&] { h->ask(task("another slow one"), "slow-2", std::chrono::milliseconds(300)); });
  EXPECT_EQ(error.code(), StatusCode::deadline_exceeded) << error.what();
  start = Clock::now();
  h.reset();
  EXPECT_LT(ms_since(start), 1500);
}

TEST(AssistantAgent, NoToolStartsAfterTheDeadline) {
  // The first response asks for a 300 ms tool, then another; the deadline passes during the first.
  Harness h(json::array({json{{"tool_calls", {tool_call("slow_echo", {{"text", "a"}})}}},
                         json{{"tool_calls", {tool_call("echo", {{"text", "b"}})}}}, "done"}));
  auto error = agent_error([&] { h.ask(task("x"), "step", std::chrono::milliseconds(150)); });
  EXPECT_EQ(error.code(), StatusCode::deadline_exceeded) << error.what();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the handler notices the stop after the tool
  EXPECT_EQ(h.slow_runs.load(), 1);
  EXPECT_EQ(h.echo_runs.load(), 0);
  EXPECT_LE(h.provider->received().size(), 1u);
}

TEST(ToolUserAgent, SchemaErrorsGoBackAndEveryCallIsRecordedWithItsTiming) {
  Harness h(json::array({json{{"content", "Let me compute."}, {"tool_calls", {tool_call("calculator", {{"expression", 37}})}}},
                         json{{"tool_calls", {tool_call("calculator", {{"expression", "2+3"}}),
                                              tool_call("echo", {{"text", "x"}})}}},
                         "5 and x"}),
            {{"kind", "tool_user"}}, nullptr, ToolLoopStyle::tool_user);
  auto reply = runtime::TaskReply::from_json(h.ask(task("What is 2+3?")));
  EXPECT_EQ(reply.output, "5 and x");
  EXPECT_EQ(reply.turns, 3);
  EXPECT_EQ(reply.tool_calls, 3);
  ASSERT_EQ(reply.details["tool_calls"].size(), 3u) << reply.details.dump();
  EXPECT_EQ(reply.details["tool_calls"][0]["status"], "invalid_arguments");
  EXPECT_EQ(reply.details["tool_calls"][0]["turn"], 1);
  EXPECT_EQ(reply.details["tool_calls"][1]["status"], "ok");
  EXPECT_EQ(reply.details["tool_calls"][1]["name"], "calculator");
  EXPECT_EQ(reply.details["tool_calls"][2]["name"], "echo");
  EXPECT_EQ(reply.details["tool_calls"][2]["turn"], 2);
  EXPECT_GE(reply.details["tool_calls"][1]["ms"].get<double>(), 0.0);
  ASSERT_EQ(reply.details["model_calls"].size(), 3u);
  EXPECT_EQ(reply.details["model_calls"][1]["tool_calls"], 2);
  EXPECT_EQ(reply.details["model_calls"][2]["tool_calls"], 0);
  // The validator's message reached the model as the first call's result.
  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.back().role, "tool");
  EXPECT_NE(second.messages.back().content.find("/expression: expected string, got number"), std::string::npos)
      << second.messages.back().content;
  LlmRequest third = h.request(2);
  EXPECT_EQ(third.messages[third.messages.size() - 2].content.find("{\"expression\":\"2+3\""), 0u);
}

TEST(ToolUserAgent, NeedsToolsAtConstructionAndInWorkflowChecks) {
  auto registry = std::make_shared<tools::ToolRegistry>();
  registry->add(tools::make_calculator_tool());
  auto provider = std::make_shared<ScriptedProvider>(json{{"provider", "scripted"}, {"responses", {"x"}}}, "");
  json spec = {{"name", "solver"},
               {"kind", "tool_user"},
               {"llm", {{"provider", "scripted"}, {"responses", {"x"}}}},
               {"tools", json::array()}};
  try {
    make_assistant_agent(spec, provider, registry, ToolLoopStyle::tool_user);
    FAIL() << "a tool user without tools must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("needs `tools:`"), std::string::npos) << e.what();
  }
  runtime::AgentKindRegistry kinds;
  add_llm_agent_kinds(kinds, registry, ".");
  const runtime::AgentKind* kind = kinds.find("tool_user");
  ASSERT_NE(kind, nullptr);
  EXPECT_TRUE(kind->needs_llm);
  auto problems = kind->check(spec);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("needs `tools:`"), std::string::npos);
  spec["tools"] = {"calculator"};
  EXPECT_TRUE(kind->check(spec).empty());
  spec["tools"] = {"calculater"};
  ASSERT_EQ(kind->check(spec).size(), 1u);
  EXPECT_NE(kind->check(spec)[0].find("'calculater' is not a registered tool"), std::string::npos);
}

}  // namespace
}  // namespace chorus::agents
