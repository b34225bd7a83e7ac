// K-norm press (kvpress KnormPress): score = -||k||_2, so keys of small norm are kept.
#include "inference/kv-press.h"

namespace chorus::inference {
namespace {

class KnormPress final : public KvPress {
 public:
  std::string name() const override { return "knorm"; }
  bool per_entry() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    return in.keys.to(torch::kFloat64).norm(2, {-1}).neg().to(torch::kFloat32);
  }
};

const KvPressRegistrar kRegistrar("knorm", [](const PressOptions&) { return std::make_unique<KnormPress>(); });

}  // namespace
}  // namespace chorus::inference
