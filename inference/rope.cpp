#include "inference/rope.h"

#include <cmath>

namespace chorus::inference {

std::vector<double> rope_inverse_frequencies(const ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    inv[i] = 1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / static_cast<double>(c.head_dim));
  const auto& r = c.rope_scaling;
  if (r.type == RopeScaling::Type::linear) {
    for (auto& f : inv) f /= r.factor;
  } else if (r.type == RopeScaling::Type::llama3) {
    const double low_wavelen = r.original_max_position_embeddings / r.low_freq_factor;
    const double high_wavelen = r.original_max_position_embeddings / r.high_freq_factor;
    for (auto& f : inv) {
      const double wavelen = 2 * M_PI / f;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        f /= r.factor;
        continue;
      }
      const double s = (r.original_max_position_embeddings / wavelen - r.low_freq_factor) /
                       (r.high_freq_factor - r.low_freq_factor);
      f = (1 - s) * f / r.factor + s * f;
    }
  }
  return inv;
}

Rope::Rope(const ModelConfig& config) {
  auto inv = rope_inverse_frequencies(config);
  inv_freq_ = torch::tensor(inv, torch::kFloat64);
}

std::pair<torch::Tensor, torch::Tensor> Rope::tables(const torch::Tensor& positions, torch::Dtype dtype) const {
  auto angle = positions.to(torch::kCPU, torch::kFloat64).unsqueeze(1) * inv_freq_.unsqueeze(0);  // [n, d/2]
  auto full = torch::cat({angle, angle}, 1);
  return {full.cos().to(positions.device(), dtype), full.sin().to(positions.device(), dtype)};
}

torch::Tensor Rope::apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace chorus::inference
