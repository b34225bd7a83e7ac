// `chorus calibrate compactor-ratio` on a tiny random model: a fitted (alpha, beta) with its samples, and
// one-line errors for bad data.
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

namespace chorus::testing {
namespace {

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

class CompactorRatioCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    make_tiny_model(dir_ / "model", {"--arch", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
                                     "--kv-heads", "2", "--intermediate", "128", "--vocab", "256", "--std", "0.2"});
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> id(0, 255);
    nlohmann::json ids = nlohmann::json::array();
    for (int i = 0; i < 400; ++i) ids.push_back(id(rng));
    std::ofstream(dir_ / "ids.json") << ids.dump();
  }
  std::vector<std::string> base(const std::string& data) {
    return {"calibrate", "compactor-ratio", "--model", (dir_ / "model").string(), "--data", data,
            "--context-tokens", "48", "--continuation-tokens", "8", "--windows", "3", "--sketch-dim", "8"};
  }
  TempDir dir_{"compactor-ratio-cli"};
};

TEST_F(CompactorRatioCli, FitsAlphaBetaAndWritesTheSamples) {
  auto args = base((dir_ / "ids.json").string());
  args.insert(args.end(), {"--ratios", "0.5,4", "--tau", "0.9", "--out", (dir_ / "fit.json").string()});
  auto r = chorus(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j, nlohmann::json::parse(std::ifstream(dir_ / "fit.json")));
  ASSERT_TRUE(j["alpha"].is_number() && j["beta"].is_number()) << j.dump();
  EXPECT_TRUE(std::isfinite(j["alpha"].get<double>()));
  EXPECT_TRUE(std::isfinite(j["beta"].get<double>()));
  EXPECT_TRUE(std::isfinite(j["rmse"].get<double>()));
  EXPECT_EQ(j["tau"], 0.9);
  EXPECT_EQ(j["keep_ratios"], nlohmann::json::array({0.5, 0.25}));
  const double example = j["example_keep_ratio_at_mean_nll"].get<double>();
  EXPECT_GT(example, 0.0);
  EXPECT_LE(example, 1.0);

  const auto& samples = j["samples"];
  ASSERT_GE(samples.size(), 3u * 2u);
  EXPECT_EQ(samples.size(), 3u * 3u);  // ratios 0.5, 0.25 and the reference r = 1, per window
  EXPECT_EQ(j["sample_count"], samples.size());
  int full = 0;
  for (const auto& s : samples) {
    const double q = s["quality"].get<double>();
    EXPECT_GE(q, 0.0);
    EXPECT_LE(q, 1.0);
    EXPECT_GT(s["context_nll"].get<double>(), 0.0);
    if (s["keep_ratio"] == 1.0) {
      ++full;
      EXPECT_EQ(q, 1.0);
    }
  }
  EXPECT_EQ(full, 3);
  // Windows are spread over the data, so their contexts differ.
  EXPECT_NE(samples[0]["context_nll"], samples[3]["context_nll"]);
}

TEST_F(CompactorRatioCli, BadDataGivesOneLineErrors) {
  std::ofstream(dir_ / "bad.json") << "[1, 2, \"x\"]";
  auto bad = chorus(base((dir_ / "bad.json").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("bad.json: expected a JSON list of token ids"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;

  auto missing = chorus(base((dir_ / "nope.json").string()));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope.json: cannot read the data file"), std::string::npos) << missing.err;

  std::ofstream(dir_ / "short.json") << "[1, 2, 3, 4, 5]";
  auto short_data = chorus(base((dir_ / "short.json").string()));
  EXPECT_NE(short_data.exit_code, 0);
  EXPECT_NE(short_data.err.find("short.json: the longest document has 5 tokens; a window needs 56"), std::string::npos)
      << short_data.err;

  std::ofstream(dir_ / "range.json") << "[1, 2, 300]";
  auto range = chorus(base((dir_ / "range.json").string()));
  EXPECT_NE(range.exit_code, 0);
  EXPECT_NE(range.err.find("token id 300 is out of range (vocab_size 256)"), std::string::npos) << range.err;

  auto args = base((dir_ / "ids.json").string());
  args.push_back("--ratios");
  args.push_back("0,0.5");
  auto ratios = chorus(args);
  EXPECT_NE(ratios.exit_code, 0);
  EXPECT_NE(ratios.err.find("--ratios"), std::string::npos) << ratios.err;
}

}  // namespace
}  // namespace chorus::testing
