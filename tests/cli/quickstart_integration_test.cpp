// The README's main command: scripts/demo runs examples/quickstart.yaml across processes (a host and a worker per
// agent over gRPC on loopback) on the bundled model with Q-Filters, and stores the run. The model's answers are
// not checked word for word here (tests/cli/bundled_model_slow_test.cpp measures its quality); what must hold is
// that every question reached the model, that the model's calls ran as real tool calls, and that the run is stored.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace chorus::testing {
namespace {

using nlohmann::json;

TEST(Quickstart, TheDemoAnswersEveryQuestionThroughToolCallsAndStoresTheRun) {
  TempDir dir("quickstart");
  const std::string store = (dir / "runs.db").string();
  const std::string build = chorus_binary().parent_path().parent_path().string();
  auto demo = run_process({"/bin/bash", "-c", "cd \"$0\" && scripts/demo \"$1\"", repo_dir().string(), build}, "",
                          {"CHORUS_STORE=" + store});
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("connected to 127.0.0.1:"), std::string::npos) << demo.out;  // two workers
  const auto answers = demo.out.find("Answers");
  ASSERT_NE(answers, std::string::npos) << demo.out;
  for (const char* q : {"1. What is 37 times 12?", "2. What is 17 squared?", "3. What day of the week",
                        "4. What date is 90 days after", "5. How many days"})
    EXPECT_NE(demo.out.find(q, answers), std::string::npos) << q << "\n" << demo.out;
  EXPECT_NE(demo.err.find(" done "), std::string::npos) << demo.err;  // the live progress ends with the run's end
  EXPECT_NE(demo.out.find("TOOL CALL"), std::string::npos) << demo.out;  // `chorus runs show` ran

  const json runs = json::parse(run_chorus({"runs", "list", "--store", store, "--json"}).out, nullptr, false);
  ASSERT_TRUE(runs.is_array() && runs.size() == 1) << runs.dump();
  auto shown = run_chorus({"runs", "show", runs[0]["id"], "--store", store, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const json record = json::parse(shown.out);
  EXPECT_EQ(record["state"], "done");
  EXPECT_EQ(record["workflow_file"], "examples/quickstart.yaml");
  // Each question goes to its own tool-user instance (athena#1..#5), whose first model turn asks for a tool.
  int tool_users_with_a_call = 0;
  for (int i = 1; i <= 5; ++i) {
    const std::string prefix = "answer#1/send:athena#" + std::to_string(i) + "/tool#";
    for (const auto& effect : record["effects"])
      if (effect["kind"] == "tool" && effect["key"].get<std::string>().rfind(prefix, 0) == 0) {
        ++tool_users_with_a_call;
        const std::string tool = effect["request"]["name"];
        EXPECT_TRUE(tool == "calculator" || tool == "calendar") << effect.dump();
        break;
      }
  }
  EXPECT_EQ(tool_users_with_a_call, 5) << record["effects"].dump().substr(0, 4000);
}

}  // namespace
}  // namespace chorus::testing
