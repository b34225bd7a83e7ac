// SnapKV press (kvpress SnapKVPress): attention of the last `window` queries, avg-pooled, GQA-averaged.
#include "inference/kv-press.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace chorus::inference {
namespace {

// The last w queries attend (causally within the window, softmax over all T keys, 1/sqrt(d)); the mean
// weight on each of the first T-w keys is avg-pooled (kernel k, zero padding counted), averaged over each
// kv group; the window's own positions score max + 1 so they are always kept. Computed in float64.
class SnapKvPress final : public KvPress {
 public:
  explicit SnapKvPress(const PressOptions& o) : window_(o.snapkv_window), kernel_(o.snapkv_kernel) {
    if (window_ <= 0) throw std::invalid_argument("snapkv: window must be > 0");
    if (kernel_ <= 0 || kernel_ % 2 != 1) throw std::invalid_argument("snapkv: kernel must be odd and > 0");
  }
  std::string name() const override { return "snapkv"; }
  bool needs_queries() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    auto k = in.keys.to(torch::kFloat64);
    auto q = in.queries.to(torch::kFloat64);
    const int64_t n_kv = k.size(0), T = k.size(1), d = k.size(2), nh = q.size(0);
    if (nh % n_kv != 0) throw std::invalid_argument("snapkv: query heads not a multiple of kv heads");
    if (T <= window_) throw std::invalid_argument("snapkv: needs more tokens than the window");
    if (q.size(1) < window_) throw std::invalid_argument("snapkv: queries must cover the last window positions");
    const int64_t group = nh / n_kv;
    auto qw = q.narrow(1, q.size(1) - window_, window_);                    // [nh, w, d]
    auto kr = k.repeat_interleave(group, 0);                                 // [nh, T, d]
    auto logits = torch::matmul(qw, kr.transpose(1, 2)) / std::sqrt(static_cast<double>(d));  // [nh, w, T]
    auto qpos = torch::arange(T - window_, T, torch::kInt64).unsqueeze(1);  // [w, 1]
    auto kpos = torch::arange(T, torch::kInt64).unsqueeze(0);               // [1, T]
    logits = logits.masked_fill(kpos > qpos, -std::numeric_limits<double>::infinity());
    auto attn = torch::softmax(logits, -1).narrow(2, 0, T - window_);      // [nh, w, T-w]
    auto s = attn.mean(1);                                                   // [nh, T-w]
    s = torch::avg_pool1d(s.unsqueeze(0), {kernel_}, {1}, {kernel_ / 2}, /*ceil_mode=*/false,
                          /*count_include_pad=*/true)
            .squeeze(0);
    s = s.reshape({n_kv, group, T - window_}).mean(1);                      // [n_kv, T-w]
    auto top = s.max() + 1.0;
    auto tail = top.expand({n_kv, window_});
    return torch::cat({s, tail}, 1).to(torch::kFloat32);
  }

 private:
  int64_t window_, kernel_;
};

const KvPressRegistrar kRegistrar("snapkv", [](const PressOptions& o) { return std::make_unique<SnapKvPress>(o); });

}  // namespace
}  // namespace chorus::inference
