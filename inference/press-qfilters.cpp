// Q-Filters press: score = <k, filter> with a calibrated filter per layer and kv head (highest kept).
#include "inference/kv-press.h"

#include <stdexcept>

namespace chorus::inference {
namespace {

// Filters [L, n_kv, d] (indexed by PressInput::layer) or [n_kv, d]. The official make_filters.py file
// stores q_filters = -filters (kvpress scores -(q_filter . k)); PressOptions::filters_stored negates them.
class QFiltersPress final : public KvPress {
 public:
  explicit QFiltersPress(const PressOptions& o) {
    if (!o.filters.defined()) throw std::invalid_argument("qfilters: PressOptions::filters is required");
    if (o.filters.dim() != 2 && o.filters.dim() != 3) throw std::invalid_argument("qfilters: filters must be 2-D or 3-D");
    filters_ = o.filters.to(torch::kCPU, torch::kFloat64);
    if (o.filters_stored) filters_ = filters_.neg();
  }
  std::string name() const override { return "qfilters"; }
  bool per_entry() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    auto f = filters_;
    if (f.dim() == 3) {
      if (in.layer < 0 || in.layer >= f.size(0)) throw std::invalid_argument("qfilters: no filters for this layer");
      f = f[in.layer];
    }
    auto k = in.keys.to(torch::kCPU, torch::kFloat64);
    if (f.size(0) != k.size(0) || f.size(1) != k.size(2))
      throw std::invalid_argument("qfilters: filters do not match the keys' shape");
    return torch::einsum("gtd,gd->gt", {k, f}).to(torch::kFloat32);
  }

 private:
  torch::Tensor filters_;
};

const KvPressRegistrar kRegistrar("qfilters", [](const PressOptions& o) { return std::make_unique<QFiltersPress>(o); });

}  // namespace
}  // namespace chorus::inference
