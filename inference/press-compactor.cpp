// Compactor press (kvpress CompactorPress): z(non-causal attention) + lambda * z(leverage), with sinks.
#include "inference/kv-press.h"
#include "inference/press-scoring.h"

#include <algorithm>
#include <stdexcept>

namespace chorus::inference {
namespace {

// Left sinks min(sink_start, S) and right sinks min(sink_end, S - left) are protected with the maximum
// blended interior score over all heads (kvpress); leverage and attention are computed on the interior only.
// lambda = blending if set, else compression_ratio (kvpress's default). Leverage per PressOptions::leverage_method.
class CompactorPress final : public KvPress {
 public:
  explicit CompactorPress(const PressOptions& o)
      : phi_(o.phi), lambda_(o.blending.value_or(o.compression_ratio)), chunk_(o.chunk_size),
        kvpress_padding_(o.kvpress_padding), sink_start_(o.sink_start), sink_end_(o.sink_end),
        leverage_method_(o.leverage_method) {
    if (!phi_.defined()) throw std::invalid_argument("compactor: PressOptions::phi (the sketch) is required");
    check_leverage_method("compactor", leverage_method_);
  }
  std::string name() const override { return "compactor"; }
  bool needs_prerope_keys() const override { return true; }
  bool needs_queries() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    const int64_t n_kv = in.keys.size(0), S = in.keys.size(1);
    const int64_t left = std::min(sink_start_, S);
    const int64_t right = std::min(sink_end_, std::max<int64_t>(0, S - left));
    const int64_t n = S - right - left;
    if (n < 2) throw std::invalid_argument("compactor: needs at least 2 unprotected tokens");
    if (in.queries.size(1) != S) throw std::invalid_argument("compactor: queries must cover every key (prefill)");
    auto lev = zscore_global(sketched_leverage(in.prerope_keys.narrow(1, left, n), phi_, leverage_method_));
    auto att = noncausal_attn_zscores(in.queries.narrow(1, left, n), in.keys.narrow(1, left, n),
                                      in.values.narrow(1, left, n), chunk_, kvpress_padding_);
    auto blended = lambda_ * lev + att;
    auto top = blended.max();
    return torch::cat({top.expand({n_kv, left}), blended, top.expand({n_kv, right})}, 1).to(torch::kFloat32);
  }

 private:
  torch::Tensor phi_;
  double lambda_;
  int64_t chunk_;
  bool kvpress_padding_;
  int64_t sink_start_, sink_end_;
  std::string leverage_method_;
};

const KvPressRegistrar kRegistrar("compactor", [](const PressOptions& o) { return std::make_unique<CompactorPress>(o); });

}  // namespace
}  // namespace chorus::inference
