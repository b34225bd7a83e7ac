// Runs every test of the official JSON-Schema-Test-Suite (draft 2020-12 subset in shared/fixtures)
// against chorus::tools::JsonSchema and reports the pass rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/paths.h"
#include "tools/json-schema.h"

namespace {

using chorus::tools::JsonSchema;
using nlohmann::json;

// Groups this validator does not support, by "file / group description", with the reason.
const std::map<std::string, std::string>& skipped_groups() {
  static const std::map<std::string, std::string> skips = {
      {"defs.json / validate definition against metaschema",
       "needs the remote 2020-12 meta-schema (https://json-schema.org/draft/2020-12/schema), not bundled"},
      {"ref.json / remote ref, containing refs itself",
       "needs the remote 2020-12 meta-schema (https://json-schema.org/draft/2020-12/schema), not bundled"},
      {"ref.json / ref creates new scope when adjacent to keywords",
       "needs unevaluatedProperties, which the validator does not implement"},
      {"not.json / collect annotations inside a 'not', even if collection is disabled",
       "needs unevaluatedProperties, which the validator does not implement"},
  };
  return skips;
}

struct Failure {
  std::string where;
  std::string why;
};

TEST(JsonSchemaSuite, RunsOfficialDraft202012Tests) {
  const auto dir = chorus::testing::shared_dir() / "fixtures/json-schema-test-suite";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "JSON-Schema-Test-Suite not found at " << dir;

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no .json files in " << dir;

  int total = 0, passed = 0, skipped = 0;
  std::vector<Failure> failures;
  std::vector<std::string> skip_report;
  std::set<std::string> skips_seen;

  for (const auto& file : files) {
    std::ifstream in(file);
    json groups = json::parse(in);
    const std::string file_name = file.filename().string();
    for (const auto& group : groups) {
      const std::string group_name = file_name + " / " + group.at("description").get<std::string>();
      const auto& tests = group.at("tests");
      total += static_cast<int>(tests.size());
      if (auto skip = skipped_groups().find(group_name); skip != skipped_groups().end()) {
        skipped += static_cast<int>(tests.size());
        skips_seen.insert(group_name);
        skip_report.push_back(group_name + " (" + std::to_string(tests.size()) + " tests): " + skip->second);
        continue;
      }
      std::unique_ptr<JsonSchema> schema;
      std::string compile_error;
      try {
        schema = std::make_unique<JsonSchema>(group.at("schema"));
      } catch (const std::exception& e) {
        compile_error = e.what();
      }
      for (const auto& test : tests) {
        const std::string where = group_name + " / " + test.at("description").get<std::string>();
        if (!schema) {
          failures.push_back({where, "schema did not compile: " + compile_error});
          continue;
        }
        const bool expected = test.at("valid").get<bool>();
        const auto errors = schema->validate(test.at("data"));
        const bool valid = schema->is_valid(test.at("data"));
        if (valid != expected || errors.empty() != expected) {
          failures.push_back({where, "expected " + std::string(expected ? "valid" : "invalid") +
                                         ", is_valid=" + (valid ? "true" : "false") + ", errors: " +
                                         (errors.empty() ? "none" : chorus::tools::join_errors(errors))});
        } else {
          ++passed;
        }
      }
    }
  }

  for (const auto& f : failures) std::printf("FAILED: %s -- %s\n", f.where.c_str(), f.why.c_str());
  for (const auto& s : skip_report) std::printf("SKIPPED: %s\n", s.c_str());
  std::string skipped_names;
  for (const auto& name : skips_seen) skipped_names += (skipped_names.empty() ? "" : ", ") + name;
  const double rate = total ? 100.0 * passed / total : 0.0;
  std::printf("JSON-Schema-Test-Suite: %d/%d passed (%.1f%%), %d failed, %d skipped: [%s]\n", passed, total,
              rate, static_cast<int>(failures.size()), skipped, skipped_names.c_str());

  EXPECT_EQ(total, 796) << "the fixture README promises 796 tests";
  EXPECT_EQ(skips_seen.size(), skipped_groups().size()) << "a skip-list entry names no group in the suite";
  EXPECT_GE(rate, 97.0) << "pass rate over all tests (skipped count as not passed)";
  EXPECT_EQ(passed + skipped + static_cast<int>(failures.size()), total);
}

}  // namespace
