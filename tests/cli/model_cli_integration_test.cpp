// `chorus model info|logits` as other tools call them: JSON on stdout, one-line errors naming file and field.
#include "tests/support/oracle.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace chorus::testing {
namespace {

ProcessResult chorus(const std::vector<std::string>& args) { return run_chorus(args); }

class ModelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!oracle_available(&why)) GTEST_SKIP() << why;
    make_tiny_model(dir_.path(), {"--arch", "qwen2", "--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads",
                                  "2", "--intermediate", "128", "--vocab", "256", "--std", "0.1"});
  }
  TempDir dir_{"model-cli"};
};

TEST_F(ModelCli, InfoSummarisesTheModel) {
  auto r = chorus({"model", "info", "--model", dir_.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["architecture"], "qwen2");
  EXPECT_EQ(j["layers"], 2);
  EXPECT_EQ(j["heads"], 4);
  EXPECT_EQ(j["kv_heads"], 2);
  EXPECT_EQ(j["vocab_size"], 256);
  EXPECT_EQ(j["dtype"], "F32");
  EXPECT_EQ(j["tie_word_embeddings"], true);
  // embed 256*64 + per layer (norms 2*64, q 64*64+64, k/v 2*(32*64+32), o 64*64, mlp 3*128*64) + final norm 64
  const int64_t per_layer = 2 * 64 + (64 * 64 + 64) + 2 * (32 * 64 + 32) + 64 * 64 + 3 * 128 * 64;
  EXPECT_EQ(j["parameters"], 256 * 64 + 2 * per_layer + 64);
}

TEST_F(ModelCli, LogitsMatchTheReference) {
  auto r = chorus({"model", "logits", "--model", dir_.path().string(), "--ids", "3,17,42,255,0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ours = nlohmann::json::parse(r.out)["logits"];
  auto ref = reference_logits(dir_.path(), {3, 17, 42, 255, 0})["logits"];
  ASSERT_EQ(ours.size(), 5u);
  double max_delta = 0;
  for (size_t t = 0; t < 5; ++t) {
    ASSERT_EQ(ours[t].size(), 256u);
    for (size_t v = 0; v < 256; ++v)
      max_delta = std::max(max_delta, std::abs(ours[t][v].get<double>() - ref[t][v].get<double>()));
  }
  EXPECT_LE(max_delta, 1e-4);
}

TEST_F(ModelCli, BadInputsGiveOneLineErrorsNamingFileAndField) {
  auto missing = chorus({"model", "info", "--model", (dir_ / "nope").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope: not a directory"), std::string::npos) << missing.err;

  auto bad_id = chorus({"model", "logits", "--model", dir_.path().string(), "--ids", "1,999"});
  EXPECT_NE(bad_id.exit_code, 0);
  EXPECT_NE(bad_id.err.find("token id 999 is out of range (vocab_size 256)"), std::string::npos) << bad_id.err;

  auto config = nlohmann::json::parse(std::ifstream(dir_ / "config.json"));
  config["architectures"] = {"GPTNeoXForCausalLM"};
  std::ofstream(dir_ / "config.json") << config.dump();
  auto arch = chorus({"model", "info", "--model", dir_.path().string()});
  EXPECT_NE(arch.exit_code, 0);
  EXPECT_NE(arch.err.find("config.json: field 'architectures': 'GPTNeoXForCausalLM' is not supported"), std::string::npos)
      << arch.err;
  EXPECT_EQ(std::count(arch.err.begin(), arch.err.end(), '\n'), 1);

  config["architectures"] = {"Qwen2ForCausalLM"};
  config["num_key_value_heads"] = 3;
  std::ofstream(dir_ / "config.json") << config.dump();
  auto heads = chorus({"model", "logits", "--model", dir_.path().string(), "--ids", "1"});
  EXPECT_NE(heads.exit_code, 0);
  EXPECT_NE(heads.err.find("field 'num_key_value_heads'"), std::string::npos) << heads.err;

  config["num_key_value_heads"] = 2;
  std::ofstream(dir_ / "config.json") << config.dump();
  std::filesystem::resize_file(dir_ / "model.safetensors", 1000);
  auto truncated = chorus({"model", "logits", "--model", dir_.path().string(), "--ids", "1"});
  EXPECT_NE(truncated.exit_code, 0);
  EXPECT_NE(truncated.err.find("model.safetensors: "), std::string::npos) << truncated.err;
  EXPECT_NE(truncated.err.find("truncated file?"), std::string::npos) << truncated.err;
}

}  // namespace
}  // namespace chorus::testing
