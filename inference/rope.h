#pragma once
// Rotary position embeddings with Hugging Face's rotate-half convention and linear/llama3 frequency scaling.
#include "inference/model-config.h"

#include <torch/torch.h>

#include <vector>

namespace chorus::inference {

// Inverse frequencies (head_dim/2 values, float64) after rope_scaling is applied.
std::vector<double> rope_inverse_frequencies(const ModelConfig& config);

class Rope {
 public:
  explicit Rope(const ModelConfig& config);
  // cos and sin tables [n, head_dim] for `positions` (computed in float64, returned as `dtype`).
  std::pair<torch::Tensor, torch::Tensor> tables(const torch::Tensor& positions, torch::Dtype dtype) const;
  // x * cos + rotate_half(x) * sin, for x [heads, n, head_dim] and tables [n, head_dim].
  static torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

 private:
  torch::Tensor inv_freq_;  // [head_dim/2] float64
};

}  // namespace chorus::inference
