// The chorus program as users and other tools run it: help, version, exit codes, JSON on stdout.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chorus::testing {
namespace {

ProcessResult chorus(std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), chorus_binary().string());
  return run_process(args, stdin_text);
}

TEST(Cli, HelpListsSubcommands) {
  auto r = chorus({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("tools"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--log-level"), std::string::npos);
  auto none = chorus({});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("subcommand"), std::string::npos) << none.err;
}

TEST(Cli, VersionNamesLibtorch) {
  auto r = chorus({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("chorus ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("libtorch"), std::string::npos) << r.out;
}

TEST(Cli, RejectsUnknownLogLevel) {
  auto r = chorus({"--log-level", "loud", "tools", "list"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("log-level"), std::string::npos) << r.err;
}

TEST(Cli, ToolsListShowsBuiltins) {
  auto r = chorus({"tools", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"calculator", "calendar", "arxiv_search", "wolfram_alpha", "web_search", "http_fetch", "python"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  auto j = chorus({"tools", "list", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto tools = nlohmann::json::parse(j.out);
  ASSERT_TRUE(tools.is_array());
  EXPECT_EQ(tools.size(), 7u);
  for (const auto& t : tools) {
    EXPECT_EQ(t["type"], "function");
    EXPECT_TRUE(t["function"]["parameters"].is_object());
  }
}

TEST(Cli, ToolsSchemaPrintsParameters) {
  auto r = chorus({"tools", "schema", "calculator"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["name"], "calculator");
  EXPECT_EQ(j["parameters"]["required"], nlohmann::json({"expression"}));
  auto unknown = chorus({"tools", "schema", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown tool 'nope'"), std::string::npos);
}

TEST(Cli, ToolsCallCalculatorPrintsResult) {
  auto r = chorus({"tools", "call", "calculator", R"J({"expression":"(2+3)*4^2 - sqrt(16)"})J"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["result"], 76);
  auto from_stdin = chorus({"tools", "call", "calculator", "-"}, R"({"expression":"7/2"})");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_EQ(nlohmann::json::parse(from_stdin.out)["result"], 3.5);
}

TEST(Cli, ToolsCallExitCodes) {
  auto invalid = chorus({"tools", "call", "calculator", R"({"expression": 5})"});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_NE(invalid.err.find("/expression: expected string, got number"), std::string::npos) << invalid.err;
  EXPECT_TRUE(invalid.out.empty());
  auto bad_json = chorus({"tools", "call", "calculator", "{expression"});
  EXPECT_EQ(bad_json.exit_code, 2);
  auto failure = chorus({"tools", "call", "calculator", R"({"expression":"1/0"})"});
  EXPECT_EQ(failure.exit_code, 1);
  EXPECT_NE(failure.err.find("division by zero"), std::string::npos) << failure.err;
  auto unknown = chorus({"tools", "call", "nope", "{}"});
  EXPECT_EQ(unknown.exit_code, 2);
}

}  // namespace
}  // namespace chorus::testing
