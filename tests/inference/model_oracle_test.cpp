// The engine's forward pass against the independent float64 numpy reference (shared/oracle), on random
// models made by the reference's own generator: logits within 1e-4, identical greedy continuations,
// and incremental decoding equal to a full prefill.
#include "inference/generator.h"
#include "inference/model.h"
#include "tests/support/oracle.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <random>

namespace chorus::inference {
namespace {

using chorus::testing::TempDir;

struct Variant {
  const char* name;
  std::vector<std::string> args;
  int prompt_tokens;
};

const std::vector<std::string> kBase = {"--layers", "2", "--hidden", "64", "--heads", "4", "--kv-heads", "2",
                                        "--intermediate", "128", "--vocab", "256", "--std", "0.1"};

std::vector<std::string> with_base(std::vector<std::string> extra) {
  auto args = kBase;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<Variant> variants() {
  return {
      {"llama_gqa", with_base({"--arch", "llama"}), 16},
      {"qwen2_bias_tied", with_base({"--arch", "qwen2"}), 16},
      {"mistral_window8", with_base({"--arch", "mistral", "--sliding-window", "8"}), 24},
      {"llama3_scaled_headdim32", with_base({"--arch", "llama", "--head-dim", "32", "--rope-scaling", "llama3"}), 16},
      {"llama_linear_rope", with_base({"--arch", "llama", "--rope-scaling", "linear", "--rope-factor", "4"}), 16},
      {"llama_bf16", with_base({"--arch", "llama", "--dtype", "bf16"}), 16},
      {"llama_3shards", {"--arch", "llama", "--layers", "3", "--hidden", "64", "--heads", "4", "--kv-heads", "2",
                         "--intermediate", "128", "--vocab", "256", "--std", "0.1", "--shards", "3"}, 16},
      {"llama_mqa", with_base({"--arch", "llama", "--kv-heads", "1"}), 16},
      // Longer than the attention's query block (128) and the window: exercises blocked prefill with masks.
      {"mistral_long_300", with_base({"--arch", "mistral", "--sliding-window", "50"}), 300},
  };
}

std::vector<int64_t> random_ids(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(0, 255);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

class ModelOracle : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    std::string why;
    if (!chorus::testing::oracle_available(&why)) GTEST_SKIP() << why;
  }
};

TEST_P(ModelOracle, LogitsAndGreedyMatchReference) {
  const Variant& v = GetParam();
  TempDir dir("model");
  chorus::testing::make_tiny_model(dir.path(), v.args);
  auto ids = random_ids(v.prompt_tokens, 7);
  constexpr int kGreedy = 32;
  auto ref = chorus::testing::reference_logits(dir.path(), ids, kGreedy);

  auto model = Model::load(dir.path());
  auto cache = model->new_cache();
  auto logits = model->forward(ids, cache);
  ASSERT_EQ(logits.size(0), static_cast<int64_t>(ids.size()));
  double max_delta = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    auto row = logits[static_cast<int64_t>(t)];
    auto acc = row.accessor<float, 1>();
    for (int64_t j = 0; j < row.size(0); ++j)
      max_delta = std::max(max_delta, std::abs(static_cast<double>(acc[j]) - ref["logits"][t][j].get<double>()));
  }
  std::printf("[%s] max |logit delta| vs oracle = %.3g\n", v.name, max_delta);
  EXPECT_LE(max_delta, 1e-4) << v.name;

  // Greedy continuation through the generator (a fresh cache: prefill, then one token per step).
  auto gen_cache = model->new_cache();
  GenerationRequest request;
  request.prompt = ids;
  request.sampling.temperature = 0;
  request.max_new_tokens = kGreedy;
  auto generated = generate(*model, nullptr, gen_cache, request).ids;
  ASSERT_EQ(generated.size(), static_cast<size_t>(kGreedy));
  const auto& expected = ref["generated"];
  const auto& margins = ref["greedy_margins"];
  for (int i = 0; i < kGreedy; ++i) {
    if (generated[i] != expected[i].get<int64_t>()) {
      EXPECT_LT(margins[i].get<double>(), 1e-4) << v.name << ": greedy step " << i << " differs (" << generated[i]
                                                << " vs " << expected[i] << ") with margin " << margins[i];
      break;  // after a near-tie the continuations legitimately diverge
    }
  }
}

TEST_P(ModelOracle, IncrementalDecodeEqualsPrefill) {
  const Variant& v = GetParam();
  TempDir dir("model");
  chorus::testing::make_tiny_model(dir.path(), v.args);
  auto model = Model::load(dir.path());
  auto ids = random_ids(v.prompt_tokens + 8, 11);
  auto full_cache = model->new_cache();
  auto full = model->forward(ids, full_cache);
  auto step_cache = model->new_cache();
  // Mixed chunking: a prefill of 5, then single tokens, then a chunk of 3.
  std::vector<torch::Tensor> rows;
  size_t pos = 0;
  auto run = [&](size_t count) {
    std::vector<int64_t> chunk(ids.begin() + static_cast<long>(pos), ids.begin() + static_cast<long>(pos + count));
    rows.push_back(model->forward(chunk, step_cache));
    pos += count;
  };
  run(5);
  while (pos + 3 < ids.size()) run(1);
  run(ids.size() - pos);
  auto incremental = torch::cat(rows, 0);
  double delta = (incremental - full).abs().max().item<double>();
  EXPECT_LE(delta, 2e-5) << v.name;
  EXPECT_EQ(step_cache.seen_tokens(), static_cast<int64_t>(ids.size()));
}

INSTANTIATE_TEST_SUITE_P(Variants, ModelOracle, ::testing::ValuesIn(variants()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace chorus::inference
