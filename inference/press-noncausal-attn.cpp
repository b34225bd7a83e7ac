// Non-causal attention press (kvpress NonCausalAttnPress): chunked, unmasked attention column sums.
#include "inference/kv-press.h"
#include "inference/press-scoring.h"

#include <stdexcept>

namespace chorus::inference {
namespace {

// Per chunk of C positions: softmax(q k^T) over the chunk's keys (no 1/sqrt(d), no mask), summed over the
// chunk's queries; averaged per kv group, times ||v||, avg-pooled (kernel 3, zero padding counted), then
// z-scored over all heads together (unbiased std, clamped at 1e-6). With kvpress_padding the last partial
// chunk is padded as kvpress does: padded query rows are zeros (kept in the sum), padded keys score -1e-9.
class NonCausalAttnPress final : public KvPress {
 public:
  explicit NonCausalAttnPress(const PressOptions& o) : chunk_(o.chunk_size), kvpress_padding_(o.kvpress_padding) {
    if (chunk_ <= 0) throw std::invalid_argument("noncausal_attn: chunk_size must be > 0");
  }
  std::string name() const override { return "noncausal_attn"; }
  bool needs_queries() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    return noncausal_attn_zscores(in.queries, in.keys, in.values, chunk_, kvpress_padding_).to(torch::kFloat32);
  }

 private:
  int64_t chunk_;
  bool kvpress_padding_;
};

const KvPressRegistrar kRegistrar("noncausal_attn",
                                  [](const PressOptions& o) { return std::make_unique<NonCausalAttnPress>(o); });

}  // namespace
}  // namespace chorus::inference
