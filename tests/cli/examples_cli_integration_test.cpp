// Every example workflow a user is pointed to passes `chorus workflow check` and runs offline to its documented
// answer (the scripted examples; the quickstart on the bundled model has its own test).
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace chorus::testing {
namespace {

using nlohmann::json;

std::string example(const std::string& name) {
  return (std::filesystem::path(CHORUS_TEST_DATA_DIR) / "../../examples" / name).lexically_normal().string();
}

struct Case {
  const char* file;
  const char* output;    // the output (task or step) to check
  const char* expected;  // its value
};

TEST(Examples, CheckAndRunToTheirDocumentedAnswers) {
  TempDir dir("examples");
  const std::string store = (dir / "runs.db").string();
  const Case cases[] = {
      {"hello.yaml", nullptr, nullptr},
      {"tool_team.yaml", "solve", "12*(3+4) = 84, and one month after 2024-01-31 is 2024-02-29."},
      {"athena_math.yaml", "solve", "That is 480 eggs, and 2^20 = 1048576."},
      {"inot_reasoning.yaml", "inot", "5"},
      {"inot_reasoning.yaml", "cot", "5"},
      {"debate.yaml", "debate", "5"},
      {"lang2logic.yaml", "solve", "720"},
      {"math_desk.yaml", "answer",
       "1. What is 37 times 12?\n   → 37 × 12 = 444.\n2. What day of the week is 2024-07-04?\n   → 2024-07-04 is a "
       "Thursday.\n3. How many days are there between 2024-01-01 and 2024-03-01?\n   → There are 60 days between "
       "2024-01-01 and 2024-03-01.\n4. What is 15% of 240?\n   → 15% of 240 is 36."},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    auto check = run_chorus({"workflow", "check", example(c.file)});
    EXPECT_EQ(check.exit_code, 0) << check.err << check.out;
    auto run = run_chorus({"run", example(c.file), "--store", store, "--quiet"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    if (c.output) {
      EXPECT_EQ(json::parse(run.out)[c.output], c.expected) << run.out;
    }
  }
}

// Runs an example into a fresh store and returns its stored record (`chorus runs show RUN --json`); null on failure.
json run_and_show(const std::string& file) {
  TempDir dir("examples");
  const std::string store = (dir / "runs.db").string();
  auto run = run_chorus({"run", example(file), "--store", store, "--quiet"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto listed = run_chorus({"runs", "list", "--store", store, "--json"});
  const json runs = json::parse(listed.out, nullptr, false);
  if (run.exit_code != 0 || !runs.is_array() || runs.empty()) return nullptr;
  auto shown = run_chorus({"runs", "show", runs[0]["id"], "--store", store, "--json"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  return json::parse(shown.out, nullptr, false);
}

TEST(Examples, AthenaMathJournalsTheSchemaErrorAndTheCorrectedConcurrentCalls) {
  const json record = run_and_show("athena_math.yaml");
  ASSERT_TRUE(record.is_object());
  std::vector<std::string> statuses;
  for (const auto& effect : record["effects"])
    if (effect["kind"] == "tool") statuses.push_back(effect["result"]["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"invalid_arguments", "ok", "ok"})) << record.dump().substr(0, 3000);
}

// `chorus runs show` (text) lists each journaled tool call: the tool, its arguments, and its result or its error.
TEST(Examples, RunsShowListsTheToolCallsWithTheirResultsAndErrors) {
  TempDir dir("examples");
  const std::string store = (dir / "runs.db").string();
  ASSERT_EQ(run_chorus({"run", example("athena_math.yaml"), "--store", store, "--quiet"}).exit_code, 0);
  const json runs = json::parse(run_chorus({"runs", "list", "--store", store, "--json"}).out, nullptr, false);
  ASSERT_TRUE(runs.is_array() && runs.size() == 1) << runs.dump();
  auto shown = run_chorus({"runs", "show", runs[0]["id"], "--store", store});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::string& out = shown.out;
  const auto table = out.find("TOOL CALL");
  ASSERT_NE(table, std::string::npos) << out;
  std::vector<std::string> lines;
  for (size_t at = out.find('\n', table) + 1; at < out.size();) {
    const size_t end = out.find('\n', at);
    lines.push_back(out.substr(at, end - at));
    at = end == std::string::npos ? out.size() : end + 1;
  }
  ASSERT_EQ(lines.size(), 3u) << out;
  EXPECT_NE(lines[0].find("{\"expression\":37}"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("error: invalid arguments for tool 'calculator'"), std::string::npos) << lines[0];
  // The corrected calls ran concurrently, so they may be journaled in either order; sorted by key: #4, then #5.
  std::sort(lines.begin() + 1, lines.end());
  EXPECT_NE(lines[1].find("{\"expression\":\"37 * 12 + 240 * 15 / 100\"}"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].substr(lines[1].size() - 5), "  480") << lines[1];
  EXPECT_NE(lines[2].find("{\"expression\":\"2^20\"}"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[2].substr(lines[2].size() - 9), "  1048576") << lines[2];
}

// The math desk's planner sends each question to its own tool-user instance; each makes one real tool call, whose
// journaled result is what the canned answer states.
TEST(Examples, MathDeskSendsEachQuestionToAToolUserThatCallsOneTool) {
  const json record = run_and_show("math_desk.yaml");
  ASSERT_TRUE(record.is_object());
  std::vector<std::string> keys, results;
  for (const auto& effect : record["effects"]) {
    if (effect["kind"] != "tool") continue;
    keys.push_back(effect["key"]);
    const json& r = effect["result"]["result"];
    results.push_back(r.contains("text") ? r["text"].get<std::string>()
                      : r.contains("weekday") ? r["weekday"].get<std::string>()
                                              : std::to_string(r["days"].get<int>()));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"answer#1/send:athena#1/tool#2", "answer#1/send:athena#2/tool#2",
                                            "answer#1/send:athena#3/tool#2", "answer#1/send:athena#4/tool#2"}))
      << record.dump().substr(0, 3000);
  EXPECT_EQ(results, (std::vector<std::string>{"444", "Thursday", "60", "36"}));
}

TEST(Examples, EvalOnTheSampleDatasets) {
  auto gsm = run_chorus({"eval", "--workflow", example("eval_scripted.yaml"), "--dataset",
                         example("data/arith_gsm8k.jsonl"), "--format", "gsm8k", "--json", "-q"});
  ASSERT_EQ(gsm.exit_code, 0) << gsm.err;
  EXPECT_EQ(json::parse(gsm.out)["correct"], 11) << gsm.out;
}

}  // namespace
}  // namespace chorus::testing
