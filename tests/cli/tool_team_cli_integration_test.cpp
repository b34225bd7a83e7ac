// examples/tool_team.yaml (the demo's workflow) as a user runs it: the solver's tool calls really run, and the
// trace records them with the tools' results.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace chorus::testing {
namespace {

using nlohmann::json;

TEST(ToolTeamExample, RunsWithRealToolCallsAndTracesThem) {
  TempDir dir("tool-team");
  const std::string store = (dir / "runs.db").string();
  const std::string workflow = std::string(CHORUS_TEST_DATA_DIR) + "/../../examples/tool_team.yaml";
  auto run = run_chorus({"run", workflow, "--store", store, "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json outputs = json::parse(run.out);
  EXPECT_EQ(outputs["solve"], "12*(3+4) = 84, and one month after 2024-01-31 is 2024-02-29.");

  auto listed = run_chorus({"runs", "list", "--store", store, "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const std::string id = json::parse(listed.out)[0]["id"];
  auto shown = run_chorus({"runs", "show", id, "--store", store, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const json record = json::parse(shown.out);
  std::map<std::string, json> tool_results;
  for (const auto& effect : record["effects"])
    if (effect["kind"] == "tool") tool_results[effect["request"]["name"]] = effect["result"];
  ASSERT_EQ(tool_results.size(), 2u) << shown.out;
  EXPECT_EQ(tool_results["calculator"]["result"]["result"], 84) << tool_results["calculator"].dump();
  EXPECT_EQ(tool_results["calendar"]["result"]["date"], "2024-02-29") << tool_results["calendar"].dump();

  auto trace = run_chorus({"runs", "trace", id, "--store", store});
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  std::istringstream lines(trace.out);
  int tool_events = 0, llm_events = 0;
  for (std::string line; std::getline(lines, line);) {
    json event = json::parse(line);
    tool_events += event["type"] == "tool_call";
    llm_events += event["type"] == "llm_call";
  }
  EXPECT_EQ(tool_events, 2);
  EXPECT_EQ(llm_events, 3);  // the planner's one turn, the solver's two
}

}  // namespace
}  // namespace chorus::testing
