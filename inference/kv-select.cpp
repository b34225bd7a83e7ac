#include "inference/kv-select.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

namespace chorus::inference {
namespace {

int64_t clamp_count(int64_t n, int64_t T) { return std::max<int64_t>(0, std::min(T, n)); }

}  // namespace

int64_t keep_count_for_ratio(int64_t T, double keep_ratio) {
  return clamp_count(static_cast<int64_t>(static_cast<double>(T) * keep_ratio), T);
}

int64_t keep_count_for_compression(int64_t T, double compression_ratio) {
  return clamp_count(static_cast<int64_t>(static_cast<double>(T) * (1.0 - compression_ratio)), T);
}

torch::Tensor lowest_scored(const torch::Tensor& scores, int64_t protect_first, int64_t protect_last) {
  if (scores.dim() != 2) throw std::invalid_argument("lowest_scored: scores must be [n_kv, T]");
  const int64_t H = scores.size(0), T = scores.size(1);
  if (protect_first < 0 || protect_last < 0 || protect_first + protect_last >= T)
    throw std::invalid_argument("lowest_scored: nothing is left to drop after the protected entries");
  auto s = scores.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  if (torch::isnan(s).any().item<bool>()) throw std::invalid_argument("lowest_scored: scores contain NaN");
  auto out = torch::empty({H}, torch::kInt64);
  const double* p = s.data_ptr<double>();
  int64_t* o = out.data_ptr<int64_t>();
  for (int64_t h = 0; h < H; ++h) o[h] = lowest_scored_index(p + h * T, T, protect_first, protect_last);
  return out;
}

torch::Tensor select_kept(const torch::Tensor& scores, int64_t keep_count, bool per_head, int64_t protect_first,
                          int64_t protect_last) {
  if (scores.dim() != 2) throw std::invalid_argument("select_kept: scores must be [n_kv, T]");
  auto s = scores.detach().to(torch::kCPU, torch::kFloat64).clone();
  if (torch::isnan(s).any().item<bool>()) throw std::invalid_argument("select_kept: scores contain NaN");
  const int64_t H = s.size(0), T = s.size(1);
  int64_t n = clamp_count(keep_count, T);
  const int64_t first = clamp_count(protect_first, T);
  const int64_t last = clamp_count(protect_last, T);
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (first > 0) s.narrow(1, 0, first).fill_(kInf);
  if (last > 0) s.narrow(1, T - last, last).fill_(kInf);
  // Protected positions count toward the budget but are kept even when they alone exceed it.
  const int64_t protected_count = (first + last > T) ? T : first + last;
  n = std::max(n, protected_count);
  // Stable ascending sort of the negated scores = descending by score, ties to the lower index.
  if (per_head) {
    auto order = std::get<1>(torch::sort(s.neg(), /*stable=*/true, /*dim=*/1, /*descending=*/false));
    return std::get<0>(torch::sort(order.narrow(1, 0, n), /*dim=*/1));
  }
  auto order = std::get<1>(torch::sort(s.neg().reshape({-1}), /*stable=*/true, /*dim=*/0, /*descending=*/false));
  auto flat = order.narrow(0, 0, n * H).contiguous();
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(H));
  const int64_t* p = flat.data_ptr<int64_t>();
  for (int64_t i = 0; i < flat.numel(); ++i) rows[static_cast<size_t>(p[i] / T)].push_back(p[i] % T);
  size_t width = 0;
  for (auto& r : rows) {
    std::sort(r.begin(), r.end());
    width = std::max(width, r.size());
  }
  auto out = torch::full({H, static_cast<int64_t>(width)}, -1, torch::kInt64);
  auto acc = out.accessor<int64_t, 2>();
  for (int64_t h = 0; h < H; ++h)
    for (size_t i = 0; i < rows[static_cast<size_t>(h)].size(); ++i)
      acc[h][static_cast<int64_t>(i)] = rows[static_cast<size_t>(h)][i];
  return out;
}

}  // namespace chorus::inference
