#pragma once
// Prefill compression (kvpress style): each layer's newly appended chunk is scored by a press and cut to a
// kept fraction before the next forward; entries already in the cache are left as they are.
#include "inference/kv-press.h"
#include "inference/model.h"

#include <cstdint>
#include <memory>
#include <string>

namespace chorus::inference {

// How the kept entries are chosen from a press's scores.
enum class HeadSelection {
  per_head,  // each KV head keeps its own top entries (kvpress default)
  shared,    // scores averaged over KV heads; every head keeps the same positions
};

// One compression setting: which press, its options, how much to keep and what is always kept.
struct CompressionSettings {
  std::string method = "knorm";      // a registered press name (see press_names())
  PressOptions press;                // method parameters; compression_ratio defaults to 1 - keep_ratio
  double keep_ratio = 1.0;           // fraction of each compressed chunk kept, in (0, 1]
  int64_t protect_first = 0;         // leading entries of a chunk always kept (attention sinks)
  int64_t protect_last = 0;          // trailing entries of a chunk always kept (recent tokens)
  HeadSelection selection = HeadSelection::per_head;
};

// Compresses every layer of the forwards it observes: pass observer() to Model::forward for the context.
class PrefillCompressor {
 public:
  // Validates the settings and builds the press; throws std::invalid_argument naming the bad field.
  explicit PrefillCompressor(CompressionSettings settings);
  // The layer observer that scores and cuts the chunk each layer just appended (after its attention ran).
  LayerObserver observer();
  // Seconds spent scoring, selecting and compacting so far.
  double seconds() const { return seconds_; }
  const CompressionSettings& settings() const { return settings_; }

 private:
  void compress(const LayerActivations& activations, KvCache& cache);
  CompressionSettings settings_;
  std::unique_ptr<KvPress> press_;
  double seconds_ = 0;
};

// Kept indices [n_kv, k] (ascending rows) into a chunk scored `scores` [n_kv, n], per the settings.
torch::Tensor select_for_settings(const torch::Tensor& scores, const CompressionSettings& settings);

}  // namespace chorus::inference
