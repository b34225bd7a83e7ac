#pragma once
// Negative log-likelihood of a continuation after a (possibly compressed) context: the measurement behind
// perplexity under a compressed or capped KV cache.
#include "inference/kv-compressor.h"
#include "inference/kv-evictor.h"
#include "inference/model.h"

#include <cstdint>
#include <vector>

namespace chorus::inference {

// What one measurement found.
struct ContinuationNll {
  double total_nll = 0;           // sum of -log p(token) over the continuation (nats)
  int64_t tokens = 0;             // continuation tokens scored
  int64_t kv_bytes_after_context = 0;  // cache bytes once the context was prefilled (and compressed)
  int64_t kv_bytes_final = 0;     // cache bytes at the end
  int64_t max_entries = 0;        // most entries any layer held per KV head after a forward
  double forward_seconds = 0;     // all forwards, compression included
  double compression_seconds = 0; // scoring + selection + compaction (compressor and evictor)
  // exp(mean NLL); 0 tokens gives 1.
  double perplexity() const;
  double mean_nll() const { return tokens ? total_nll / static_cast<double>(tokens) : 0.0; }
};

// Prefills `context` (compressed by `compressor` when given), then feeds `continuation` one token at a time
// (each forward observed by `evictor` when given) and scores every continuation token, the first one from the
// context's last logits. `context` must not be empty. The cache must be fresh (or hold a shared prefix).
ContinuationNll continuation_nll(const Model& model, KvCache& cache, const std::vector<int64_t>& context,
                                 const std::vector<int64_t>& continuation, PrefillCompressor* compressor = nullptr,
                                 StreamingEvictor* evictor = nullptr);

}  // namespace chorus::inference
