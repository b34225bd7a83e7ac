#pragma once
// Q-Filters calibration (qfilters make_filters.py): per layer and kv head, the principal direction of the
// post-RoPE queries, oriented by majority vote, so that score = <k, filter> keeps the most attended keys.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace chorus::inference {

// Calibrated filters and the intermediate per-query-head results.
struct QFilters {
  torch::Tensor filters;       // [L, n_kv, d] float64; score = k . filter, highest kept
  torch::Tensor head_filters;  // [L, n_heads, d] float64, unit vectors s * v1
  torch::Tensor signs;         // [L, n_heads] float64, +1 or -1
  // What make_filters.py saves and kvpress loads (q_filters = -filters).
  torch::Tensor stored() const { return filters.neg(); }
};

// Calibrates from post-RoPE queries per layer ([n_heads, N, d], calibration positions concatenated).
// Per layer, rows `sample_indices` are used when given (shared by all heads), else every row. Per query
// head: SVD in float64, v1 = first right singular vector, s = +1 iff more than half of U[:,0] is > 0,
// head filter = s * v1; GQA: each kv head's filter is the mean of its group's head filters (no renorm).
QFilters qfilters_calibrate(const std::vector<torch::Tensor>& queries_per_layer, int64_t n_kv_heads,
                            const torch::Tensor& sample_indices = {});

}  // namespace chorus::inference
