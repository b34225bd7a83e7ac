#include "inference/continuation-nll.h"

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace chorus::inference {
namespace {

double nll_of(const torch::Tensor& logits_row, int64_t id) {
  auto logp = torch::log_softmax(logits_row.to(torch::kFloat64), -1);
  return -logp[id].item<double>();
}

int64_t largest_layer(const KvCache& cache) {
  int64_t most = 0;
  for (int64_t l = 0; l < cache.num_layers(); ++l) most = std::max(most, cache.size(l));
  return most;
}

}  // namespace

double ContinuationNll::perplexity() const { return std::exp(mean_nll()); }

ContinuationNll continuation_nll(const Model& model, KvCache& cache, const std::vector<int64_t>& context,
                                 const std::vector<int64_t>& continuation, PrefillCompressor* compressor,
                                 StreamingEvictor* evictor) {
  if (context.empty()) throw std::invalid_argument("continuation_nll: the context has no tokens");
  ContinuationNll r;
  const double compressed_before = (compressor ? compressor->seconds() : 0) + (evictor ? evictor->seconds() : 0);
  LayerObserver prefill;
  if (compressor && evictor) {
    auto c = compressor->observer(), e = evictor->observer();
    prefill = [c, e](const LayerActivations& a, KvCache& kv) {
      c(a, kv);
      e(a, kv);
    };
  } else if (compressor) {
    prefill = compressor->observer();
  } else if (evictor) {
    prefill = evictor->observer();
  }
  const LayerObserver decode = evictor ? evictor->observer() : LayerObserver();
  auto start = std::chrono::steady_clock::now();
  auto logits = model.forward(context, cache, /*last_only=*/true, prefill);
  r.max_entries = largest_layer(cache);
  r.kv_bytes_after_context = cache.bytes();
  for (size_t i = 0; i < continuation.size(); ++i) {
    r.total_nll += nll_of(logits[0], continuation[i]);
    ++r.tokens;
    if (i + 1 == continuation.size()) break;
    logits = model.forward({continuation[i]}, cache, /*last_only=*/true, decode);
    r.max_entries = std::max(r.max_entries, largest_layer(cache));
  }
  r.forward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.compression_seconds = (compressor ? compressor->seconds() : 0) + (evictor ? evictor->seconds() : 0) - compressed_before;
  r.kv_bytes_final = cache.bytes();
  return r;
}

}  // namespace chorus::inference
