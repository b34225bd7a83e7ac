#include "inference/kv-compressor.h"

#include "inference/kv-select.h"

#include <chrono>
#include <stdexcept>

namespace chorus::inference {

torch::Tensor select_for_settings(const torch::Tensor& scores, const CompressionSettings& s) {
  const int64_t n = scores.size(1);
  const int64_t keep = keep_count_for_ratio(n, s.keep_ratio);
  if (s.selection == HeadSelection::per_head) return select_kept(scores, keep, true, s.protect_first, s.protect_last);
  auto shared = select_kept(scores.to(torch::kFloat64).mean(0, /*keepdim=*/true), keep, true, s.protect_first,
                            s.protect_last);
  return shared.expand({scores.size(0), shared.size(1)}).contiguous();
}

PrefillCompressor::PrefillCompressor(CompressionSettings settings) : settings_(std::move(settings)) {
  auto& s = settings_;
  if (!(s.keep_ratio > 0.0 && s.keep_ratio <= 1.0))
    throw std::invalid_argument("keep_ratio must be in (0, 1], got " + std::to_string(s.keep_ratio));
  if (s.protect_first < 0 || s.protect_last < 0)
    throw std::invalid_argument("protect_first and protect_last must be >= 0");
  if (s.press.compression_ratio == 0.0) s.press.compression_ratio = 1.0 - s.keep_ratio;
  press_ = make_press(s.method, s.press);
}

LayerObserver PrefillCompressor::observer() {
  return [this](const LayerActivations& a, KvCache& cache) { compress(a, cache); };
}

void PrefillCompressor::compress(const LayerActivations& a, KvCache& cache) {
  if (settings_.keep_ratio >= 1.0) return;
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = a.positions.size(0), total = cache.size(a.layer), before = total - n;
  PressInput in;
  in.layer = a.layer;
  in.keys = cache.keys(a.layer).narrow(1, before, n);
  in.values = cache.values(a.layer).narrow(1, before, n);
  in.queries = a.queries;
  in.prerope_keys = a.keys_pre_rope;
  in.positions = cache.positions(a.layer).narrow(1, before, n);
  auto kept = select_for_settings(press_->score(in), settings_).to(in.keys.device()) + before;
  const int64_t n_kv = cache.num_kv_heads();
  if (before > 0) {
    auto old = torch::arange(before, torch::TensorOptions().dtype(torch::kInt64).device(in.keys.device()));
    kept = torch::cat({old.unsqueeze(0).expand({n_kv, before}), kept}, 1);
  }
  cache.retain(a.layer, kept);
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace chorus::inference
