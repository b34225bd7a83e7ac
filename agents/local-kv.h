#pragma once
// KV-cache compression for one local generation: prefill compression of the prompt (keep_ratio) and/or
// decode-time streaming eviction (cap, window, sinks), as `chorus kv` and `chorus kv eval` apply them.
#include "agents/local-settings.h"
#include "inference/kv-compressor.h"
#include "inference/kv-evictor.h"

#include <optional>

namespace chorus::agents {

// Press options for `kv` on a model: the Q-Filters file (shape-checked against the model) for qfilters, a
// seeded Gaussian sketch for compactor/leverage. Throws std::invalid_argument naming llm.kv.<field>.
inference::PressOptions local_press_options(const LocalKvSettings& kv, const inference::ModelConfig& config);

// The compressor/evictor of one generation; observer() goes into the GenerationRequest.
class LocalKvRun {
 public:
  // Validates and builds them for a prompt of `prompt_tokens`; throws std::invalid_argument naming the bad field.
  // A prompt no longer than snapkv's observation window is left uncompressed (the press needs more tokens).
  LocalKvRun(const LocalKvSettings& kv, const inference::PressOptions& press, int64_t num_layers,
             int64_t prompt_tokens);
  LocalKvRun(const LocalKvRun&) = delete;
  LocalKvRun& operator=(const LocalKvRun&) = delete;
  // Compresses the first forward (the prompt) and evicts during every forward.
  inference::LayerObserver observer();

 private:
  std::optional<inference::PrefillCompressor> compressor_;
  std::optional<inference::StreamingEvictor> evictor_;
  inference::LayerObserver compress_, evict_;
  int64_t num_layers_;
  int64_t calls_ = 0;
};

}  // namespace chorus::agents
