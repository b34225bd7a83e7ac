// The formalizer kind (Lang2Logic, prompting, no RL) on a real LocalRuntime with the scripted provider and
// the real python tool (bubblewrap when usable, else rlimits): stage-1 structure checked against its JSON
// Schema and re-asked with the validator's message, stage-2 programs run in the sandbox with their errors fed
// back, the majority vote over samples, and the option checks.
#include "agents/formalizer-agent.h"
#include "agents/scripted-provider.h"
#include "runtime/agent-error.h"
#include "runtime/local-runtime.h"
#include "runtime/task-message.h"
#include "tools/python-tool.h"

#include "tests/support/memory-journal.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace chorus::agents {
namespace {

using nlohmann::json;
using runtime::AgentError;
using runtime::StatusCode;
using chorus::testing::MemoryJournal;

// Script `match` strings: a phrase only in the stage-1 question, one only in the stage-2 question.
const char* kStage1 = "Do not solve the problem yet";
const char* kStage2 = "Formalized structure of the problem";

const json kStructure = {
    {"problem_overview", "Choose how many tables and chairs to make to maximize profit."},
    {"model_type", "linear program"},
    {"variables",
     {{{"name", "t"}, {"domain", "non-negative integer"}, {"meaning", "tables made"}},
      {{"name", "c"}, {"domain", "non-negative integer"}, {"meaning", "chairs made"}}}},
    {"constraints", {"4*t + 2*c <= 40 (wood)", "2*t + 3*c <= 30 (hours)"}},
    {"objective", "maximize 70*t + 40*c"}};

const char* kProblem =
    "A workshop makes tables (profit 70) and chairs (profit 40). A table needs 4 units of wood and 2 hours, "
    "a "
    "chair 2 units of wood and 3 hours. There are 40 units of wood and 30 hours. What is the largest profit?";

// A model reply holding `code` in a python fence.
std::string program_reply(const std::string& code) {
  return "Here is the program:\n```python\n" + code + "\n```\n";
}

const char* kSolver =
    "best = max(70*t + 40*c for t in range(11) for c in range(11) if 4*t + 2*c <= 40 and 2*t + 3*c <= 30)\n"
    "print('checked all plans')\n"
    "print(f'Profit: {best}')";

// Why the python tool cannot run programs here ("" when it can).
std::string python_unavailable() {
  tools::ToolRegistry registry;
  tools::register_python_tool(registry);
  auto result = registry.call("python", {{"code", "print(6*7)"}});
  if (!result.ok()) return "the python tool cannot run here: " + result.error;
  if (result.value.value("stdout", "") != "42\n")
    return "the python tool did not run a program: " + result.value.dump();
  return "";
}

#define REQUIRE_PYTHON()                                                           \
  do {                                                                             \
    if (std::string why = python_unavailable(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

// One formalizer agent ("solver") on a LocalRuntime with `llm` scripted settings and the real python tool.
class Harness {
 public:
  Harness(json llm, json options = json::object()) {
    auto registry = std::make_shared<tools::ToolRegistry>();
    tools::register_python_tool(*registry);
    tools_ = registry;
    llm["provider"] = "scripted";
    provider = std::make_shared<ScriptedProvider>(llm, "");
    spec = {{"name", "solver"},
            {"kind", "formalizer"},
            {"role", ""},
            {"goal", ""},
            {"instructions", ""},
            {"llm", llm},
            {"tools", json::array()},
            {"max_iter", 10},
            {"options", std::move(options)}};
    runtime_.register_factory(
        "solver", [this](const runtime::AgentId&) { return make_formalizer_agent(spec, provider, tools_); });
    runtime_.set_journal_provider([this](const runtime::Message&) { return journal_; });
  }

  runtime::TaskReply ask() {
    runtime::TaskRequest r;
    r.task = "profit";
    r.description = kProblem;
    r.expected_output = "a number";
    return ask_with(r);
  }

  runtime::TaskReply ask_with(const runtime::TaskRequest& r) {
    runtime::Message m = runtime::make_request(runtime::AgentId{"solver", "default"}, r.to_json());
    m.trace_id = "run-1";
    m.metadata[std::string(runtime::kEffectScopeKey)] = "step";
    return runtime::TaskReply::from_json(runtime_.send_and_wait(std::move(m)));
  }

  // The request the model got on call `i` (0-based).
  LlmRequest request(size_t i) const {
    auto all = provider->received();
    if (i >= all.size())
      throw std::out_of_range("the model was called " + std::to_string(all.size()) + " times");
    return all[i];
  }

  MemoryJournal& journal() { return *journal_; }

  std::shared_ptr<ScriptedProvider> provider;
  json spec;

 private:
  std::shared_ptr<MemoryJournal> journal_ = std::make_shared<MemoryJournal>();
  std::shared_ptr<const tools::ToolRegistry> tools_;
  runtime::LocalRuntime runtime_;  // last: destroyed first
};

json script(json stage1, json stage2) {
  return {{"script",
           {{{"match", kStage1}, {"responses", std::move(stage1)}},
            {{"match", kStage2}, {"responses", std::move(stage2)}}}}};
}

template <class F>
AgentError agent_error(F&& f) {
  try {
    f();
  } catch (const AgentError& e) {
    return e;
  }
  return AgentError(StatusCode::ok, "(no error)");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(FormalizerAgent, ValidStructureThenProgramAnswer) {
  REQUIRE_PYTHON();
  Harness h(script(json::array({kStructure.dump()}), json::array({program_reply(kSolver)})),
            {{"answer_format", "number"}});
  auto reply = h.ask();
  EXPECT_EQ(reply.output, "720");  // t=8, c=4; "Profit: 720" normalized as a number
  EXPECT_EQ(reply.turns, 2);
  EXPECT_EQ(reply.tool_calls, 1);
  EXPECT_GT(reply.prompt_tokens, 0);
  EXPECT_EQ(reply.details["structure"], kStructure);
  EXPECT_EQ(reply.details["schema_attempts"], 1);
  EXPECT_EQ(reply.details["program"], kSolver);
  ASSERT_EQ(reply.details["samples"].size(), 1u);
  EXPECT_EQ(reply.details["samples"][0]["answer"], "720");
  EXPECT_EQ(reply.details["samples"][0]["attempts"], 1);
  EXPECT_FALSE(reply.details["samples"][0].contains("error"));

  LlmRequest first = h.request(0);
  ASSERT_EQ(first.messages.size(), 2u);
  EXPECT_EQ(first.messages[0].role, "system");
  EXPECT_TRUE(contains(first.messages[1].content, "largest profit"));
  EXPECT_TRUE(contains(first.messages[1].content, "\"variables\""));
  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.size(), 2u) << "stage 2 starts a fresh conversation";
  EXPECT_TRUE(contains(second.messages[1].content, "largest profit"));
  EXPECT_TRUE(contains(second.messages[1].content, "maximize 70*t + 40*c"));
  EXPECT_TRUE(contains(second.messages[1].content, "```python"));

  auto records = h.journal().records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records["step/llm#1"].kind, "llm");
  EXPECT_EQ(records["step/llm#2"].kind, "llm");
  EXPECT_EQ(records["step/tool#3"].kind, "tool");
  EXPECT_EQ(records["step/tool#3"].request["name"], "python");
  EXPECT_EQ(json::parse(records["step/tool#3"].request["arguments_text"].get<std::string>())["code"],
            kSolver);
  EXPECT_EQ(records["step/tool#3"].result["result"]["exit_code"], 0);
}

TEST(FormalizerAgent, InvalidStructureIsReaskedWithTheValidatorsMessage) {
  REQUIRE_PYTHON();
  json missing_variables = kStructure;
  missing_variables.erase("variables");
  missing_variables["notes"] = "extra";
  Harness h(
      script(json::array({"I think it is a linear program.", missing_variables.dump(), kStructure.dump()}),
             json::array({program_reply("print(720)")})));
  auto reply = h.ask();
  EXPECT_EQ(reply.output, "720");
  EXPECT_EQ(reply.details["schema_attempts"], 3);
  EXPECT_EQ(reply.turns, 4);

  LlmRequest second = h.request(1);
  ASSERT_EQ(second.messages.size(), 4u);
  EXPECT_EQ(second.messages[2].content, "I think it is a linear program.");
  EXPECT_TRUE(contains(second.messages[3].content, "no JSON object")) << second.messages[3].content;
  LlmRequest third = h.request(2);
  ASSERT_EQ(third.messages.size(), 6u);
  const std::string& why = third.messages[5].content;
  EXPECT_TRUE(contains(why, "missing required property \"variables\"")) << why;
  EXPECT_TRUE(contains(why, "additional property \"notes\" is not allowed")) << why;
}

TEST(FormalizerAgent, StructureNeverValidFailsNamingTheProblemAndTheFix) {
  REQUIRE_PYTHON();
  json empty_variables = kStructure;
  empty_variables["variables"] = json::array();
  Harness h(
      script(json::array({"not json", empty_variables.dump()}), json::array({program_reply("print(1)")})),
      {{"schema_retries", 1}});
  auto e = agent_error([&] { h.ask(); });
  EXPECT_EQ(e.code(), StatusCode::failed);
  const std::string what = e.what();
  EXPECT_TRUE(contains(what, "agent 'solver'")) << what;
  EXPECT_TRUE(contains(what, "2 attempt(s)")) << what;
  EXPECT_TRUE(contains(what, "/variables")) << what;
  EXPECT_TRUE(contains(what, "raise `schema_retries` or use a stronger model")) << what;
  EXPECT_EQ(h.provider->received().size(), 2u) << "no program is asked for";
}

TEST(FormalizerAgent, CrashingProgramGetsItsErrorBackAndIsFixed) {
  REQUIRE_PYTHON();
  Harness h(script(json::array({kStructure.dump()}),
                   json::array({program_reply("profit = 720 / 0\nprint(profit)"), program_reply(kSolver)})),
            {{"answer_format", "number"}});
  auto reply = h.ask();
  EXPECT_EQ(reply.output, "720");
  EXPECT_EQ(reply.tool_calls, 2);
  EXPECT_EQ(reply.details["samples"][0]["attempts"], 2);
  EXPECT_EQ(reply.details["program"], kSolver);

  LlmRequest fix = h.request(2);
  ASSERT_EQ(fix.messages.size(), 4u);
  EXPECT_EQ(fix.messages[2].role, "assistant");
  EXPECT_EQ(fix.messages[3].role, "user");
  EXPECT_TRUE(contains(fix.messages[3].content, "ZeroDivisionError")) << fix.messages[3].content;
  EXPECT_TRUE(contains(fix.messages[3].content, "exited with code 1")) << fix.messages[3].content;
}

TEST(FormalizerAgent, RetriesExhaustedFailsNamingTheLastError) {
  REQUIRE_PYTHON();
  Harness h(script(json::array({kStructure.dump()}),
                   json::array({"The answer is 720.", program_reply("import sys\nsys.exit(0)"),
                                program_reply("print(1/0)")})),
            {{"retries", 2}});
  auto e = agent_error([&] { h.ask(); });
  EXPECT_EQ(e.code(), StatusCode::failed);
  const std::string what = e.what();
  EXPECT_TRUE(contains(what, "no program produced an answer")) << what;
  EXPECT_TRUE(contains(what, "3 attempt(s)")) << what;
  EXPECT_TRUE(contains(what, "ZeroDivisionError")) << what;
  EXPECT_TRUE(contains(what, "raise `retries`")) << what;

  // Each earlier failure reached the model.
  EXPECT_TRUE(contains(h.request(2).messages.back().content, "no ```python code block"));
  EXPECT_TRUE(contains(h.request(3).messages.back().content, "printed nothing"));
}

TEST(FormalizerAgent, MajorityVoteOverIndependentSamples) {
  REQUIRE_PYTHON();
  json llm = {{"script",
               {{{"match", kStage1}, {"responses", {kStructure.dump()}}},
                {{"match", "attempt 1 of 3"}, {"responses", {program_reply("print('Profit:', 690)")}}},
                {{"match", "attempt 2 of 3"},
                 {"responses", {program_reply("print(1/0)"), program_reply("print('Profit:', 720)")}}},
                {{"match", "attempt 3 of 3"}, {"responses", {program_reply("print(720)")}}}}}};
  Harness h(llm, {{"samples", 3}, {"answer_format", "number"}});
  auto reply = h.ask();
  EXPECT_EQ(reply.output, "720");
  EXPECT_EQ(reply.details["program"], "print('Profit:', 720)")
      << "the earliest sample with the majority answer";
  auto samples = reply.details["samples"];
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0]["answer"], "690");
  EXPECT_EQ(samples[1]["answer"], "720");
  EXPECT_EQ(samples[1]["attempts"], 2);
  EXPECT_EQ(samples[2]["answer"], "720");
  EXPECT_EQ(reply.details["votes"], 2);
  EXPECT_EQ(reply.turns, 5);
  EXPECT_EQ(reply.tool_calls, 4);
  // Every sample starts its own conversation from the same structure.
  for (size_t call : {1u, 2u, 4u}) {
    EXPECT_EQ(h.request(call).messages.size(), 2u) << "call " << call;
    EXPECT_TRUE(contains(h.request(call).messages[1].content, "maximize 70*t + 40*c"));
  }
}

TEST(FormalizerAgent, TiedVoteGoesToTheEarliestSampleAndFailedSamplesDoNotVote) {
  REQUIRE_PYTHON();
  json llm = {{"script",
               {{{"match", kStage1}, {"responses", {kStructure.dump()}}},
                {{"match", "attempt 1 of 3"}, {"responses", {program_reply("print(1/0)")}}},
                {{"match", "attempt 2 of 3"}, {"responses", {program_reply("print('six hundred')")}}},
                {{"match", "attempt 3 of 3"}, {"responses", {program_reply("print(720)")}}}}}};
  Harness h(llm, {{"samples", 3}, {"retries", 0}});
  auto reply = h.ask();
  EXPECT_EQ(reply.output, "six hundred");
  EXPECT_TRUE(reply.details["samples"][0]["answer"].is_null());
  EXPECT_TRUE(contains(reply.details["samples"][0]["error"].get<std::string>(), "ZeroDivisionError"));
}

TEST(FormalizerAgent, OptionProblemsAreClearAtConstruction) {
  auto registry = std::make_shared<tools::ToolRegistry>();
  tools::register_python_tool(*registry);
  auto provider = std::make_shared<ScriptedProvider>(json{{"responses", {"x"}}}, "");
  auto build = [&](json options) {
    json spec = {{"name", "solver"}, {"kind", "formalizer"}, {"options", std::move(options)}};
    try {
      make_formalizer_agent(spec, provider, registry);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(built)");
  };
  EXPECT_EQ(build(json::object()), "(built)");
  std::string unknown = build({{"python_tool", "snake"}});
  EXPECT_TRUE(contains(unknown, "'snake'")) << unknown;
  EXPECT_TRUE(contains(unknown, "chorus tools list")) << unknown;
  std::string samples = build({{"samples", 10}});
  EXPECT_TRUE(contains(samples, "`samples` must be an integer from 1 to 9")) << samples;
  std::string retries = build({{"retries", "two"}});
  EXPECT_TRUE(contains(retries, "`retries`")) << retries;
  std::string format = build({{"answer_format", "roman"}});
  EXPECT_TRUE(contains(format, "answer_format")) << format;

  // The same checks for `chorus workflow check`.
  EXPECT_TRUE(
      formalizer_option_problems({{"name", "solver"}, {"options", json::object()}}, registry.get()).empty());
  auto problems =
      formalizer_option_problems({{"name", "solver"}, {"options", {{"samples", 0}}}}, registry.get());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(contains(problems[0], "agent 'solver': `samples` must be an integer from 1 to 9, got 0"))
      << problems[0];

  try {
    make_formalizer_agent({{"name", "solver"}}, provider, std::make_shared<tools::ToolRegistry>());
    ADD_FAILURE() << "built without a python tool";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "python_tool 'python'")) << e.what();
  }
}

TEST(FormalizerAgent, TaskWithOutputSchemaIsRefused) {
  REQUIRE_PYTHON();
  Harness h(script(json::array({kStructure.dump()}), json::array({program_reply("print(1)")})));
  runtime::TaskRequest r;
  r.task = "profit";
  r.description = kProblem;
  r.output_schema = {{"type", "object"}};
  auto e = agent_error([&] { h.ask_with(r); });
  EXPECT_EQ(e.code(), StatusCode::invalid_argument);
  EXPECT_TRUE(contains(e.what(), "output_schema")) << e.what();
  EXPECT_TRUE(h.provider->received().empty());
}

}  // namespace
}  // namespace chorus::agents
