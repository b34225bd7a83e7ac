// Sampler: each filter and penalty on hand-made logits, greedy ties, seeded determinism, distribution.
#include "inference/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace chorus::inference {
namespace {

torch::Tensor logits(std::vector<float> v) { return torch::tensor(v, torch::kFloat32); }

int kept(const torch::Tensor& processed) { return (processed > -std::numeric_limits<float>::infinity()).sum().item<int>(); }

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s({.temperature = 0});
  EXPECT_EQ(s.sample(logits({1, 5, 5, 2}), {}, 0), 1);
}

TEST(Sampler, TopKKeepsKBest) {
  Sampler s({.temperature = 1, .top_k = 2});
  auto p = s.process(logits({1, 4, 3, 2}), {}, 0);
  EXPECT_EQ(kept(p), 2);
  EXPECT_GT(p[1].item<float>(), -1e30);
  EXPECT_GT(p[2].item<float>(), -1e30);
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  // probabilities 0.5, 0.3, 0.15, 0.05
  auto l = logits({std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)});
  EXPECT_EQ(kept(Sampler({.temperature = 1, .top_p = 0.5}).process(l, {}, 0)), 1);
  EXPECT_EQ(kept(Sampler({.temperature = 1, .top_p = 0.8}).process(l, {}, 0)), 2);
  EXPECT_EQ(kept(Sampler({.temperature = 1, .top_p = 0.81}).process(l, {}, 0)), 3);
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  auto l = logits({std::log(0.6f), std::log(0.3f), std::log(0.1f)});
  EXPECT_EQ(kept(Sampler({.temperature = 1, .min_p = 0.4}).process(l, {}, 0)), 2);
}

TEST(Sampler, PenaltiesFollowHfAndOpenAIDefinitions) {
  Sampler rep({.temperature = 0, .repetition_penalty = 2.0});
  auto p = rep.process(logits({4, -4, 1}), {0, 1}, 0);
  EXPECT_FLOAT_EQ(p[0].item<float>(), 2);   // positive: divided
  EXPECT_FLOAT_EQ(p[1].item<float>(), -8);  // negative: multiplied
  EXPECT_FLOAT_EQ(p[2].item<float>(), 1);
  Sampler pen({.temperature = 0, .presence_penalty = 0.5, .frequency_penalty = 0.25});
  // context: prompt {2} then generated {0, 0}: only generated tokens are penalised.
  auto q = pen.process(logits({3, 3, 3}), {2, 0, 0}, 2);
  EXPECT_FLOAT_EQ(q[0].item<float>(), 3 - 0.5f - 0.5f);
  EXPECT_FLOAT_EQ(q[2].item<float>(), 3);
}

TEST(Sampler, SeededSamplingIsDeterministicAndFollowsTheDistribution) {
  auto l = logits({std::log(0.7f), std::log(0.2f), std::log(0.1f)});
  Sampler a({.temperature = 1, .seed = 42}), b({.temperature = 1, .seed = 42});
  std::map<int64_t, int> counts;
  for (int i = 0; i < 4000; ++i) {
    auto x = a.sample(l, {}, 0);
    EXPECT_EQ(x, b.sample(l, {}, 0));
    ++counts[x];
  }
  EXPECT_NEAR(counts[0] / 4000.0, 0.7, 0.03);
  EXPECT_NEAR(counts[1] / 4000.0, 0.2, 0.03);
  EXPECT_NEAR(counts[2] / 4000.0, 0.1, 0.03);
}

TEST(Sampler, RejectsBadParameters) {
  EXPECT_THROW(Sampler({.temperature = -1}), std::invalid_argument);
  EXPECT_THROW(Sampler({.top_p = 0}), std::invalid_argument);
  EXPECT_THROW(Sampler({.min_p = 2}), std::invalid_argument);
  EXPECT_THROW(Sampler({.repetition_penalty = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::inference
