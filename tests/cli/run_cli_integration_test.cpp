// `chorus run`, `chorus runs resume` and `chorus runs replay` as users run them: the real program, a real store
// file, outputs JSON on stdout, progress on stderr, exit statuses 0 / 1 / 2 / 3.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <regex>
#include <sstream>

namespace chorus::testing {
namespace {

using nlohmann::json;

ProcessResult chorus(std::vector<std::string> args) {
  args.insert(args.begin(), chorus_binary().string());
  return run_process(args);
}

std::string hello_yaml() { return (test_data_dir() / ".." / ".." / "examples" / "hello.yaml").string(); }

// The run id from the progress lines ("12:00:00 run <id> started: ...").
std::string run_id_in(const std::string& progress) {
  std::smatch match;
  static const std::regex started("run ([0-9a-f-]{36}) started");
  return std::regex_search(progress, match, started) ? match[1].str() : "";
}

TEST(RunCli, RunsHelloThenShowsReplaysAndRefusesToResumeIt) {
  TempDir dir("run-cli");
  const std::string store = (dir / "runs.db").string();
  const std::string trace = (dir / "trace.jsonl").string();
  auto run = chorus({"run", hello_yaml(), "--input", "name=Ada", "--store", store, "--trace", trace});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json outputs = json::parse(run.out);
  EXPECT_EQ(outputs["greet"]["description"], "Say hello to Ada.");
  EXPECT_EQ(outputs["sign"]["description"], "Sign the greeting 'Say hello to Ada.' as Chorus.");
  EXPECT_EQ(outputs["sign"]["context"][0]["task"], "greet");
  // Plain progress lines on stderr (not a terminal here).
  EXPECT_NE(run.err.find("greet#1 done"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("sign#1 done"), std::string::npos) << run.err;
  const std::string id = run_id_in(run.err);
  ASSERT_FALSE(id.empty()) << run.err;

  // The trace holds every event, one JSON object per line, from run_started to run_finished.
  std::istringstream lines(read_file(trace));
  std::vector<std::string> types;
  for (std::string line; std::getline(lines, line);) types.push_back(json::parse(line)["type"]);
  ASSERT_GE(types.size(), 6u);
  EXPECT_EQ(types.front(), "run_started");
  EXPECT_EQ(types.back(), "run_finished");

  auto show = chorus({"runs", "show", id.substr(0, 8), "--store", store, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  json shown = json::parse(show.out);
  EXPECT_EQ(shown["state"], "done");
  EXPECT_EQ(shown["outputs"], outputs);
  EXPECT_EQ(shown["steps"].size(), 2u);

  auto replay = chorus({"runs", "replay", id, "--store", store, "--quiet"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(json::parse(replay.out), outputs);
  EXPECT_EQ(replay.err, "");  // --quiet

  auto resume = chorus({"runs", "resume", id, "--store", store});
  EXPECT_EQ(resume.exit_code, 1);
  EXPECT_NE(resume.err.find("is done; nothing to resume (`chorus runs replay " + id + "`"), std::string::npos)
      << resume.err;
}

// An LLM agent (the scripted provider): its model call is journaled, traced as llm_call, and a replay answers it
// from the recording.
TEST(RunCli, LlmCallsAreTracedAndReplayedFromTheRecording) {
  TempDir dir("run-cli");
  const std::string store = (dir / "runs.db").string();
  write_file(dir / "llm.yaml", R"Y(
name: llm-hello
agents:
  helper:
    kind: assistant
    role: Helper
    llm: {provider: scripted, responses: ["Hello there!"]}
tasks:
  greet: {description: "Say hello", agent: helper}
)Y");
  const std::string trace = (dir / "trace.jsonl").string();
  auto run = chorus({"run", (dir / "llm.yaml").string(), "--store", store, "--trace", trace});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(run.out), json({{"greet", "Hello there!"}}));
  EXPECT_NE(run.err.find("greet#1 llm"), std::string::npos) << run.err;
  std::istringstream lines(read_file(trace));
  int llm_calls = 0;
  for (std::string line; std::getline(lines, line);) {
    json event = json::parse(line);
    if (event["type"] != "llm_call") continue;
    ++llm_calls;
    EXPECT_EQ(event["step"], "greet");
    EXPECT_EQ(event["data"]["key"], "greet#1/llm#1");
    EXPECT_EQ(event["data"]["result"], "Hello there!");
    EXPECT_GT(event.value("completion_tokens", 0), 0);
  }
  EXPECT_EQ(llm_calls, 1);

  const std::string id = run_id_in(run.err);
  auto replay = chorus({"runs", "replay", id, "--store", store});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(json::parse(replay.out), json({{"greet", "Hello there!"}}));
  EXPECT_NE(replay.err.find("(replay of " + id + ")"), std::string::npos) << replay.err;
  EXPECT_NE(replay.err.find("(recorded)"), std::string::npos) << replay.err;
}

TEST(RunCli, HumanInputWaitsWithExit3AndResumeFinishes) {
  TempDir dir("run-cli");
  const std::string store = (dir / "runs.db").string();
  write_file(dir / "approve.yaml", R"Y(
name: approve
agents:
  writer: {kind: echo}
tasks:
  draft: {description: "draft a note", agent: writer}
  publish: {description: "publish ({outputs.ask})", agent: writer}
flow:
  steps:
    draft: {next: ask}
    ask:
      human_input: {prompt: "Publish it?", key: approval}
      next: publish
    publish: {}
)Y");
  auto run = chorus({"run", (dir / "approve.yaml").string(), "--store", store});
  ASSERT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "");
  const std::string id = run_id_in(run.err);
  ASSERT_FALSE(id.empty()) << run.err;
  EXPECT_NE(run.err.find("waiting for input 'approval': chorus runs resume " + id + " --input approval=VALUE"),
            std::string::npos)
      << run.err;

  auto resumed = chorus({"runs", "resume", id, "--input", "approval=yes", "--store", store});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  json outputs = json::parse(resumed.out);
  EXPECT_EQ(outputs["ask"], "yes");
  EXPECT_EQ(outputs["publish"]["description"], "publish (yes)");
  EXPECT_NE(resumed.err.find("draft#1 done"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("(from checkpoint)"), std::string::npos) << resumed.err;
}

TEST(RunCli, BadInputsAndWorkflowsExit2WithTheProblem) {
  TempDir dir("run-cli");
  const std::string store = (dir / "runs.db").string();
  auto unknown = chorus({"run", hello_yaml(), "--input", "nmae=Ada", "--store", store});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("nmae"), std::string::npos) << unknown.err;

  auto malformed = chorus({"run", hello_yaml(), "--input", "name", "--store", store});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("is not KEY=VALUE"), std::string::npos) << malformed.err;

  write_file(dir / "broken.yaml", "name: broken\nagents:\n  a: {kind: echo}\ntasks:\n  t: {description: x, agent: b}\n");
  auto broken = chorus({"run", (dir / "broken.yaml").string(), "--store", store});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("broken.yaml:5:"), std::string::npos) << broken.err;

  auto missing = chorus({"run", (dir / "nope.yaml").string(), "--store", store});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.yaml"), std::string::npos) << missing.err;
}

TEST(RunCli, FailedRunExits1WithTheStepError) {
  TempDir dir("run-cli");
  write_file(dir / "strict.yaml", R"Y(
name: strict
agents:
  a: {kind: echo}
tasks:
  t:
    description: "answer with a number"
    agent: a
    output_schema: {type: number}
)Y");
  auto run = chorus({"run", (dir / "strict.yaml").string(), "--store", (dir / "runs.db").string(), "--quiet"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("step t#1 failed after 1 attempt: invalid_argument"), std::string::npos) << run.err;
}

// A step whose model call outlasts step_timeout_s: the call is abandoned at the deadline (not waited out), the
// retry runs at once on the same agent, and the program exits soon after the run fails.
TEST(RunCli, StepTimeoutCutsASlowModelCallShortAndTheProgramExitsPromptly) {
  TempDir dir("run-cli");
  write_file(dir / "slow.yaml", R"Y(
name: slow
budgets: {step_timeout_s: 1, retries: 1, backoff_s: 0.2}
agents:
  helper:
    kind: assistant
    role: Helper
    llm: {provider: scripted, responses: [{content: "too late", delay_ms: 8000}]}
tasks:
  t: {description: "answer slowly", agent: helper}
)Y");
  const auto start = std::chrono::steady_clock::now();
  auto run = chorus({"run", (dir / "slow.yaml").string(), "--store", (dir / "runs.db").string()});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("deadline_exceeded"), std::string::npos) << run.err;
  EXPECT_LT(took, std::chrono::milliseconds(4000)) << run.err;
}

}  // namespace
}  // namespace chorus::testing
