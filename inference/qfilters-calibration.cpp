#include "inference/qfilters-calibration.h"

#include <stdexcept>

namespace chorus::inference {

QFilters qfilters_calibrate(const std::vector<torch::Tensor>& queries_per_layer, int64_t n_kv_heads,
                            const torch::Tensor& sample_indices) {
  if (queries_per_layer.empty()) throw std::invalid_argument("qfilters_calibrate: no layers");
  std::vector<torch::Tensor> filters, heads, signs;
  for (const auto& layer_queries : queries_per_layer) {
    if (layer_queries.dim() != 3) throw std::invalid_argument("qfilters_calibrate: queries must be [heads, N, d]");
    auto q = layer_queries.to(torch::kCPU, torch::kFloat64);
    if (sample_indices.defined()) q = q.index_select(1, sample_indices.to(torch::kCPU, torch::kInt64));
    const int64_t nh = q.size(0), d = q.size(2);
    if (n_kv_heads <= 0 || nh % n_kv_heads != 0)
      throw std::invalid_argument("qfilters_calibrate: query heads not a multiple of kv heads");
    auto head_filters = torch::empty({nh, d}, torch::kFloat64);
    auto head_signs = torch::empty({nh}, torch::kFloat64);
    for (int64_t h = 0; h < nh; ++h) {
      auto [u, s, vh] = torch::linalg_svd(q[h], /*full_matrices=*/false);
      // Majority vote on the first left singular vector: independent of the SVD's own sign choice.
      const double positive = (u.select(1, 0) > 0).to(torch::kFloat64).mean().item<double>();
      const double sign = positive > 0.5 ? 1.0 : -1.0;
      head_filters[h] = vh[0] * sign;
      head_signs[h] = sign;
    }
    filters.push_back(head_filters.reshape({n_kv_heads, nh / n_kv_heads, d}).mean(1));
    heads.push_back(head_filters);
    signs.push_back(head_signs);
  }
  return {torch::stack(filters), torch::stack(heads), torch::stack(signs)};
}

}  // namespace chorus::inference
