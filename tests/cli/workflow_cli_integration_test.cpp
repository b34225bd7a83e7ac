// `chorus workflow check`: validates workflow files as a user runs it (the real program, real files).
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace chorus::testing {
namespace {

std::filesystem::path examples_dir() { return test_data_dir().parent_path().parent_path() / "examples"; }

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(WorkflowCli, ExamplesAreValid) {
  const auto research = (examples_dir() / "research_review.yaml").string();
  auto result = run_chorus({"workflow", "check", research});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, research + ": ok (3 agents, 5 tasks, 7 steps)\n");
  EXPECT_EQ(result.err, "");  // no warnings either
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    auto each = run_chorus({"workflow", "check", entry.path().string()});
    EXPECT_EQ(each.exit_code, 0) << entry.path() << "\n" << each.err;
  }
}

TEST(WorkflowCli, ReportsEveryProblemWithItsPlace) {
  TempDir dir("workflow-cli");
  const auto bad = (dir / "bad.yaml").string();
  write_file(bad, R"Y(name: bad
agents:
  writer: {kind: ech, rol: x}
tasks:
  draft: {description: "About {topik}", agent: writer}
flow:
  steps:
    draft: {next: [{when: "outputs.draft.ok = true", goto: end}]}
)Y");
  const auto good = (dir / "good.yaml").string();
  write_file(good, "name: good\nagents: {a: {kind: echo}}\ntasks: {t: {description: hi}, u: {description: x}}\n");
  auto result = run_chorus({"workflow", "check", good, bad});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, good + ": ok (1 agent, 2 tasks, 2 steps)\n");
  EXPECT_TRUE(has(result.err, bad + ":3:18: unknown agent kind 'ech' for agent 'writer'; did you mean 'echo'?"))
      << result.err;
  EXPECT_TRUE(has(result.err, bad + ":5:32: task 'draft' description reads {topik}")) << result.err;
  EXPECT_TRUE(has(result.err, bad + ":8:45: step 'draft' condition does not parse: '=' is not an operator; compare "
                                    "with '=='"))
      << result.err;
  EXPECT_TRUE(has(result.err, bad + ": 3 problems\n")) << result.err;
}

TEST(WorkflowCli, AgentKindsCheckTheirLlmSettingsAndTools) {
  TempDir dir("workflow-cli-kind");
  const auto bad = (dir / "bad.yaml").string();
  write_file(bad, "name: x\nagents:\n  a: {kind: assistant, llm: {provider: openai, modle: m}, tools: [calculater]}\n"
                  "tasks:\n  t: {description: hi, agent: a}\n");
  auto result = run_chorus({"workflow", "check", bad});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(has(result.err, bad + ":3:3: agent 'a': llm.modle is not a setting of the openai provider; did you "
                                    "mean llm.model?"))
      << result.err;
  EXPECT_TRUE(has(result.err, bad + ":3:3: agent 'a': tool 'calculater' is not a registered tool")) << result.err;
  EXPECT_TRUE(has(result.err, "2 problems")) << result.err;
}

TEST(WorkflowCli, WarningsDoNotFailTheCheck) {
  TempDir dir("workflow-cli");
  const auto file = (dir / "warn.yaml").string();
  write_file(file, R"Y(name: warn
agents: {a: {kind: echo}}
tasks: {t: {description: x}, spare: {description: y}}
flow: {steps: {t: {next: end}}}
)Y");
  auto result = run_chorus({"workflow", "check", file});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, file + ": ok (1 agent, 2 tasks, 1 step)\n");
  EXPECT_TRUE(has(result.err, file + ":3:30: warning: task 'spare' is run by no step")) << result.err;
}

TEST(WorkflowCli, UnreadableFileAndSyntaxError) {
  TempDir dir("workflow-cli");
  const auto broken = (dir / "broken.yaml").string();
  write_file(broken, "name: x\nagents: {a: [1, 2}\n");
  auto result = run_chorus({"workflow", "check", (dir / "missing.yaml").string(), broken});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(has(result.err, "missing.yaml: cannot read the workflow file")) << result.err;
  EXPECT_TRUE(has(result.err, broken + ":2:")) << result.err;
  EXPECT_TRUE(has(result.err, "YAML syntax error")) << result.err;
  auto usage = run_chorus({"workflow", "check"});
  EXPECT_NE(usage.exit_code, 0);
}

}  // namespace
}  // namespace chorus::testing
