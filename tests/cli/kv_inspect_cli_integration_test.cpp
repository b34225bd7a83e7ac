// `chorus kv inspect` against the independent reference (shared/oracle/kv_scores_reference.py --model, which
// runs its own forward): the positions each KV head keeps after one prefill compression must be identical, in
// every layer, for knorm, streaming (both forms), snapkv, qfilters (filters from the reference's calibration,
// written by the reference's safetensors writer) and compactor (the reference's sketch passed with --sketch).
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>

namespace chorus::testing {
namespace {

using nlohmann::json;

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

// Writes `tensor_json` (nested lists) as float64 tensor `name` with the reference's own safetensors writer.
void write_with_reference(const std::filesystem::path& file, const std::string& name, const json& tensor_json,
                          const std::filesystem::path& scratch) {
  { std::ofstream(scratch) << tensor_json.dump(); }
  const std::string script =
      "import json, sys; sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True\n"
      "import numpy as np, safetensors_io as st\n"
      "st.save_file({sys.argv[2]: np.asarray(json.load(open(sys.argv[3])), dtype=np.float64)}, sys.argv[4])\n";
  auto r = run_process({"/usr/bin/python3", "-c", script, (shared_dir() / "oracle").string(), name, scratch.string(),
                        file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

class KvInspectCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    make_tiny_model(dir_ / "model", {"--arch", "llama", "--layers", "2", "--hidden", "64", "--heads", "4",
                                     "--kv-heads", "2", "--intermediate", "128", "--vocab", "256", "--std", "0.1",
                                     "--dtype", "f32", "--seed", "11"});
    std::mt19937 rng(5);
    for (int i = 0; i < 96; ++i) {
      if (i) ids_.push_back(',');
      ids_.append(std::to_string(rng() % 256));
    }
  }
  json reference(const std::string& method, int layer, std::vector<std::string> extra) {
    std::vector<std::string> args = {method, "--model", (dir_ / "model").string(), "--tokens", ids_, "--layer",
                                     std::to_string(layer)};
    args.insert(args.end(), extra.begin(), extra.end());
    return json::parse(run_oracle("kv_scores_reference.py", args));
  }
  json inspect(std::vector<std::string> extra) {
    std::vector<std::string> args = {"kv", "inspect", "--model", (dir_ / "model").string(), "--ids", ids_};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = chorus(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out) : json();
  }
  // Same kept positions in every layer and head; a head whose reference margin is tiny would be a coin flip.
  void expect_same(const json& ours, const std::function<json(int)>& ref_for_layer) {
    ASSERT_TRUE(ours.contains("layers"));
    ASSERT_EQ(ours["layers"].size(), 2u);
    for (int layer = 0; layer < 2; ++layer) {
      auto ref = ref_for_layer(layer);
      const auto& kept = ours["layers"][layer]["kept"];
      ASSERT_EQ(kept.size(), ref["kept"].size());
      for (size_t h = 0; h < kept.size(); ++h) {
        if (ref.contains("kept_margin") && ref["kept_margin"][h].is_number()) {
          ASSERT_GT(ref["kept_margin"][h].get<double>(), 1e-5) << "reference margin too small to compare";
        }
        EXPECT_EQ(kept[h], ref["kept"][h]) << "layer " << layer << " head " << h;
      }
    }
  }
  TempDir dir_{"kv-inspect"};
  std::string ids_;
};

TEST_F(KvInspectCli, KnormMatchesTheReference) {
  auto ours = inspect({"--method", "knorm", "--keep-ratio", "0.25"});
  expect_same(ours, [&](int l) { return reference("knorm", l, {"--keep-ratio", "0.25"}); });
  EXPECT_EQ(ours["layers"][0]["kept"][0].size(), 24u);
  EXPECT_EQ(ours["kv_bytes"].get<int64_t>() * 4, ours["kv_bytes_uncompressed"].get<int64_t>());
}

TEST_F(KvInspectCli, StreamingMatchesTheReferenceInBothForms) {
  expect_same(inspect({"--method", "streaming", "--keep-ratio", "0.5", "--sinks", "4"}), [&](int l) {
    return reference("streaming_llm", l, {"--compression-ratio", "0.5", "--n-sink", "4"});
  });
  auto windowed = inspect({"--method", "streaming", "--keep-ratio", "0.25", "--sinks", "4", "--window", "20"});
  expect_same(windowed, [&](int l) {
    return reference("streaming_llm", l, {"--window", "20", "--n-sink", "4", "--keep-ratio", "0.25"});
  });
  std::vector<int64_t> expected = {0, 1, 2, 3};
  for (int p = 76; p < 96; ++p) expected.push_back(p);
  EXPECT_EQ(windowed["layers"][1]["kept"][1].get<std::vector<int64_t>>(), expected);
}

TEST_F(KvInspectCli, SnapkvMatchesTheReference) {
  // Above the 64-token observation window (those all score the maximum, a tie by construction).
  expect_same(inspect({"--method", "snapkv", "--keep-ratio", "0.8"}),
              [&](int l) { return reference("snapkv", l, {"--keep-ratio", "0.8"}); });
}

TEST_F(KvInspectCli, QfiltersWithReferenceCalibratedFiltersMatch) {
  auto calibrated = reference("qfilters", 0, {"--keep-ratio", "0.5"});
  write_with_reference(dir_ / "q_filters.safetensors", "q_filters", calibrated["q_filters_stored"], dir_ / "f.json");
  auto ours = inspect({"--method", "qfilters", "--keep-ratio", "0.5", "--filters",
                       (dir_ / "q_filters.safetensors").string()});
  expect_same(ours, [&](int l) { return l == 0 ? calibrated : reference("qfilters", l, {"--keep-ratio", "0.5"}); });
  // Beside the model, the file is found without --filters.
  std::filesystem::copy_file(dir_ / "q_filters.safetensors", dir_ / "model" / "q_filters.safetensors");
  EXPECT_EQ(inspect({"--method", "qfilters", "--keep-ratio", "0.5"})["layers"], ours["layers"]);
}

TEST_F(KvInspectCli, CompactorWithTheReferenceSketchMatches) {
  auto first = reference("compactor", 0, {"--compression-ratio", "0.75", "--phi-seed", "3"});
  write_with_reference(dir_ / "phi.safetensors", "phi", first["phi"], dir_ / "phi.json");
  auto ours = inspect({"--method", "compactor", "--keep-ratio", "0.25", "--sketch", (dir_ / "phi.safetensors").string()});
  expect_same(ours, [&](int l) {
    return l == 0 ? first : reference("compactor", l, {"--compression-ratio", "0.75", "--phi-seed", "3"});
  });
}

TEST_F(KvInspectCli, RatioOneKeepsEverything) {
  auto ours = inspect({"--method", "knorm", "--keep-ratio", "1"});
  for (const auto& layer : ours["layers"])
    for (const auto& head : layer["kept"]) EXPECT_EQ(head.size(), 96u);
}

TEST_F(KvInspectCli, RatioFitChoosesTheKeepRatioPerInput) {
  // alpha = 0: b = beta whatever the context's NLL, so the keep ratio is the closed form for (b, tau).
  { std::ofstream(dir_ / "fit.json") << R"({"alpha": 0, "beta": 3.0, "rmse": 0.01})"; }
  auto ours = inspect({"--method", "compactor", "--ratio-fit", (dir_ / "fit.json").string(), "--tau", "0.8"});
  const double b = 3.0, tau = 0.8;
  const double expected = 1 + std::log(tau * (1 - std::exp(-b)) + std::exp(-b)) / b;
  EXPECT_NEAR(ours["keep_ratio"].get<double>(), expected, 1e-12);
  EXPECT_GT(ours["adaptive_ratio"]["context_nll"].get<double>(), 0);
  EXPECT_EQ(ours["layers"][0]["kept"][0].size(), static_cast<size_t>(96 * expected));
  auto r = chorus({"kv", "inspect", "--model", (dir_ / "model").string(), "--ids", ids_, "--method", "compactor",
                   "--ratio-fit", (dir_ / "missing.json").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("chorus calibrate compactor-ratio"), std::string::npos) << r.err;
}

TEST_F(KvInspectCli, BadInputsGiveOneLineErrors) {
  auto r = chorus({"kv", "inspect", "--model", (dir_ / "model").string(), "--ids", ids_, "--method", "nope",
                   "--keep-ratio", "0.5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown KV press 'nope'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("knorm"), std::string::npos) << r.err;
  r = chorus({"kv", "inspect", "--model", (dir_ / "model").string(), "--ids", ids_, "--method", "knorm",
              "--keep-ratio", "1.5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("keep_ratio must be in (0, 1]"), std::string::npos) << r.err;
  r = chorus({"kv", "inspect", "--model", (dir_ / "model").string(), "--ids", ids_, "--method", "qfilters",
              "--keep-ratio", "0.5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("chorus calibrate qfilters"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace chorus::testing
