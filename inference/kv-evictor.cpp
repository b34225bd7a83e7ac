#include "inference/kv-evictor.h"

#include "inference/kv-select.h"

#include <chrono>
#include <stdexcept>
#include <string>

namespace chorus::inference {

torch::Tensor window_protected_evict(const torch::Tensor& scores, int64_t max_entries, int64_t window,
                                     int64_t protect_first) {
  if (scores.dim() != 2) throw std::invalid_argument("window_protected_evict: scores must be [n_kv, L]");
  if (window < 0 || window >= max_entries) throw std::invalid_argument("window_protected_evict: need 0 <= window < max_entries");
  const int64_t H = scores.size(0), L = scores.size(1);
  if (L <= max_entries) return torch::arange(L, torch::kInt64).unsqueeze(0).expand({H, L}).contiguous();
  auto older = select_kept(scores.narrow(1, 0, L - window), max_entries - window, true, protect_first, 0);
  auto recent = torch::arange(L - window, L, torch::kInt64).unsqueeze(0).expand({H, window});
  return torch::cat({older, recent}, 1);
}

StreamingEvictor::StreamingEvictor(StreamingSettings settings) : settings_(std::move(settings)) {
  auto& s = settings_;
  if (s.window < 0 || s.protect_first < 0) throw std::invalid_argument("window and protect_first must be >= 0");
  if (s.max_entries <= s.window + s.protect_first)
    throw std::invalid_argument("max_entries (" + std::to_string(s.max_entries) + ") must exceed window + sinks (" +
                                std::to_string(s.window + s.protect_first) + ")");
  if (canonical_press_name(s.method) == "streaming_llm") {
    // StreamingLLM as a capped cache: the sinks plus the newest entries up to the cap.
    s.press.n_sink = s.protect_first;
    s.press.window = s.max_entries - s.protect_first;
  }
  press_ = make_press(s.method, s.press);
  if (press_->needs_queries() || press_->needs_prerope_keys())
    throw std::invalid_argument("method '" + s.method + "' needs " +
                                (press_->needs_queries() ? std::string("future queries") : std::string("pre-RoPE keys")) +
                                " and cannot evict during decoding; use it for prefill compression, or pick one of "
                                "knorm, qfilters, streaming, random");
  per_entry_ = press_->per_entry();
}

LayerObserver StreamingEvictor::observer() {
  return [this](const LayerActivations& a, KvCache& cache) { observe(a, cache); };
}

void StreamingEvictor::observe(const LayerActivations& a, KvCache& cache) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t layer = a.layer, L = cache.size(layer), n = a.positions.size(0);
  const bool full = L > settings_.max_entries;
  if (per_entry_) {
    observe_per_entry(layer, L, n, cache);
  } else if (full) {
    PressInput in = input_for(cache, layer, 0, L);
    evict(cache, layer, press_->score(in));
  }
  if (full) evicted_ += L - settings_.max_entries;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

PressInput StreamingEvictor::input_for(const KvCache& cache, int64_t layer, int64_t from, int64_t count) const {
  PressInput in;
  in.layer = layer;
  in.keys = cache.keys(layer).narrow(1, from, count);
  in.values = cache.values(layer).narrow(1, from, count);
  in.positions = cache.positions(layer).narrow(1, from, count);
  return in;
}

void StreamingEvictor::evict(KvCache& cache, int64_t layer, const torch::Tensor& scores) {
  if (scores.size(1) == settings_.max_entries + 1) {  // one entry per head goes: shift in place
    cache.remove_one(layer, lowest_scored(scores, settings_.protect_first, settings_.window));
    return;
  }
  auto indices = window_protected_evict(scores, settings_.max_entries, settings_.window, settings_.protect_first);
  cache.retain(layer, indices.to(cache.keys(layer).device()));
}

void StreamingEvictor::observe_per_entry(int64_t layer, int64_t L, int64_t n, KvCache& cache) {
  if (static_cast<int64_t>(layers_.size()) <= layer) layers_.resize(static_cast<size_t>(layer) + 1);
  LayerScores& state = layers_[static_cast<size_t>(layer)];
  const int64_t H = cache.num_kv_heads();
  // Reuse the kept scores when nothing but this forward's n appends changed the cache since the last call
  // (another observer, e.g. a prefill compressor, may have cut it); otherwise rescore everything.
  const bool reusable = state.stamp == cache.edit_stamp(layer) && L >= n &&
                        static_cast<int64_t>(state.scores.size()) == H &&
                        static_cast<int64_t>(state.scores[0].size()) == L - n;
  const int64_t from = reusable ? L - n : 0;
  auto fresh = press_->score(input_for(cache, layer, from, L - from)).to(torch::kCPU, torch::kFloat32).contiguous();
  state.scores.resize(static_cast<size_t>(H));
  const float* f = fresh.data_ptr<float>();
  for (int64_t h = 0; h < H; ++h) {
    auto& row = state.scores[static_cast<size_t>(h)];
    if (!reusable) row.clear();
    row.insert(row.end(), f + h * (L - from), f + (h + 1) * (L - from));
  }
  if (L == settings_.max_entries + 1) {
    // The common decode step: one entry per head goes; shift in place instead of rebuilding the cache.
    std::vector<int64_t> drop(static_cast<size_t>(H));
    for (int64_t h = 0; h < H; ++h) {
      auto& row = state.scores[static_cast<size_t>(h)];
      drop[static_cast<size_t>(h)] = lowest_scored_index(row.data(), L, settings_.protect_first, settings_.window);
      row.erase(row.begin() + drop[static_cast<size_t>(h)]);
    }
    cache.remove_one(layer, torch::tensor(drop, torch::kInt64));
  } else if (L > settings_.max_entries) {
    auto scores = torch::empty({H, L}, torch::kFloat32);
    for (int64_t h = 0; h < H; ++h)
      std::copy(state.scores[static_cast<size_t>(h)].begin(), state.scores[static_cast<size_t>(h)].end(),
                scores.data_ptr<float>() + h * L);
    auto indices = window_protected_evict(scores, settings_.max_entries, settings_.window, settings_.protect_first);
    cache.retain(layer, indices.to(cache.keys(layer).device()));
    auto kept = scores.gather(1, indices).contiguous();
    for (int64_t h = 0; h < H; ++h)
      state.scores[static_cast<size_t>(h)].assign(kept.data_ptr<float>() + h * kept.size(1),
                                                  kept.data_ptr<float>() + (h + 1) * kept.size(1));
  }
  state.stamp = cache.edit_stamp(layer);
}

}  // namespace chorus::inference
