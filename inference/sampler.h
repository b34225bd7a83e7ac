#pragma once
// Sampler: turns a logits row into the next token id (greedy, temperature, top-k/top-p/min-p, penalties).
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <vector>

namespace chorus::inference {

struct SamplingParams {
  double temperature = 1.0;         // 0 = greedy (argmax, lowest id on ties)
  int64_t top_k = 0;                // keep the k most likely tokens (0 = off)
  double top_p = 1.0;               // keep the smallest set with cumulative probability >= top_p (1 = off)
  double min_p = 0.0;               // drop tokens below min_p * p(most likely) (0 = off)
  double repetition_penalty = 1.0;  // HF/CTRL: divide positive / multiply negative logits of seen tokens (1 = off)
  double presence_penalty = 0.0;    // OpenAI: subtract once for each token already generated
  double frequency_penalty = 0.0;   // OpenAI: subtract per occurrence among generated tokens
  uint64_t seed = 0;                // the same seed, logits and history give the same choices
};

class Sampler {
 public:
  // Throws std::invalid_argument naming a parameter out of range.
  explicit Sampler(const SamplingParams& params);
  // The next id from float logits [vocab]; `context` is prompt + generated, the last `generated` of it new.
  int64_t sample(const torch::Tensor& logits, const std::vector<int64_t>& context, size_t generated);
  // The processed logits before the draw (penalties, temperature, filters; removed tokens are -inf).
  torch::Tensor process(const torch::Tensor& logits, const std::vector<int64_t>& context, size_t generated) const;
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

}  // namespace chorus::inference
