#pragma once
// Decode-time streaming eviction (the Q-Filters cache rule): each layer holds at most `max_entries` per
// KV head; the newest `window` entries are protected; when full, the lowest-scored older entries go.
#include "inference/kv-press.h"
#include "inference/model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chorus::inference {

// A capped cache: which press scores entries, the cap, and what is always kept.
struct StreamingSettings {
  std::string method = "knorm";  // a press that needs neither future queries nor pre-RoPE keys
  PressOptions press;            // for "streaming_llm", n_sink and window are set from the cap (sinks + recent)
  int64_t max_entries = 0;       // cap per layer and KV head (> window + protect_first)
  int64_t window = 0;            // newest entries never evicted
  int64_t protect_first = 0;     // oldest entries never evicted (attention sinks)
};

// Evicts during any forward it observes (prefill or decode): pass observer() to Model::forward/generate.
class StreamingEvictor {
 public:
  // Validates the settings and builds the press; throws std::invalid_argument naming the bad field.
  explicit StreamingEvictor(StreamingSettings settings);
  // The layer observer that evicts down to the cap once a layer exceeds it.
  LayerObserver observer();
  // Seconds spent scoring, selecting and compacting so far.
  double seconds() const { return seconds_; }
  // Entries evicted so far, summed over layers (per KV head).
  int64_t evicted() const { return evicted_; }
  const StreamingSettings& settings() const { return settings_; }

 private:
  // Per layer, the scores of the retained entries for presses whose scores never change (knorm, qfilters).
  struct LayerScores {
    std::vector<std::vector<float>> scores;  // [kv head][entry]
    uint64_t stamp = 0;                      // KvCache::edit_stamp of the state they belong to
  };
  void observe(const LayerActivations& activations, KvCache& cache);
  void observe_per_entry(int64_t layer, int64_t L, int64_t n, KvCache& cache);
  void evict(KvCache& cache, int64_t layer, const torch::Tensor& scores);
  PressInput input_for(const KvCache& cache, int64_t layer, int64_t from, int64_t count) const;
  StreamingSettings settings_;
  std::unique_ptr<KvPress> press_;
  bool per_entry_;                 // scores of an entry never change: keep them instead of rescoring
  std::vector<LayerScores> layers_;
  double seconds_ = 0;
  int64_t evicted_ = 0;
};

// Q-Filters QFiltersCache.update rule on scores [n_kv, L]: all of [0, L) when L <= max_entries, else the
// newest `window` plus the best max_entries - window of the rest (first `protect_first` always kept;
// ties to the older entry). Kept indices [n_kv, min(L, max_entries)], rows ascending.
torch::Tensor window_protected_evict(const torch::Tensor& scores, int64_t max_entries, int64_t window,
                                     int64_t protect_first = 0);

}  // namespace chorus::inference
