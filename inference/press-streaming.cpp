// StreamingLLM press: keeps attention sinks plus recent tokens; every other token scores 0.
#include "inference/kv-press.h"

#include <algorithm>
#include <stdexcept>

namespace chorus::inference {
namespace {

// With window > 0: 1 on [0, n_sink) U [T-window, T), else 0. With window == 0 (kvpress
// StreamingLLMPress): 1 except 0 on [n_sink, n_sink + n_pruned), n_pruned = T - int(T * (1 - ratio)).
class StreamingPress final : public KvPress {
 public:
  explicit StreamingPress(const PressOptions& o) : n_sink_(o.n_sink), window_(o.window), ratio_(o.compression_ratio) {
    if (n_sink_ < 0 || window_ < 0) throw std::invalid_argument("streaming_llm: n_sink and window must be >= 0");
  }
  std::string name() const override { return "streaming_llm"; }
  torch::Tensor score(const PressInput& in) const override {
    const int64_t n_kv = in.keys.size(0), T = in.keys.size(1);
    if (window_ > 0) {
      auto s = torch::zeros({n_kv, T}, torch::kFloat32);
      const int64_t sink = std::min(n_sink_, T), w = std::min(window_, T);
      if (sink > 0) s.narrow(1, 0, sink).fill_(1.0);
      if (w > 0) s.narrow(1, T - w, w).fill_(1.0);
      return s;
    }
    if (T <= n_sink_) throw std::invalid_argument("streaming_llm: need more tokens than n_sink");
    const int64_t n_pruned = T - static_cast<int64_t>(static_cast<double>(T) * (1.0 - ratio_));
    auto s = torch::ones({n_kv, T}, torch::kFloat32);
    const int64_t len = std::min(n_pruned, T - n_sink_);
    if (len > 0) s.narrow(1, n_sink_, len).fill_(0.0);
    return s;
  }

 private:
  int64_t n_sink_, window_;
  double ratio_;
};

const KvPressRegistrar kRegistrar(
    "streaming_llm", [](const PressOptions& o) { return std::make_unique<StreamingPress>(o); }, {"streaming"});

}  // namespace
}  // namespace chorus::inference
