// Leverage press (kvpress LeveragePress): z-scored ridge leverage of the centred, sketched pre-RoPE keys.
#include "inference/kv-press.h"
#include "inference/press-scoring.h"

#include <stdexcept>

namespace chorus::inference {
namespace {

class LeveragePress final : public KvPress {
 public:
  explicit LeveragePress(const PressOptions& o) : phi_(o.phi) {
    if (!phi_.defined()) throw std::invalid_argument("leverage: PressOptions::phi (the sketch) is required");
  }
  std::string name() const override { return "leverage"; }
  torch::Tensor score(const PressInput& in) const override {
    if (!in.prerope_keys.defined()) throw std::invalid_argument("leverage: needs pre-RoPE keys");
    return zscore_global(ridge_leverage(in.prerope_keys, phi_)).to(torch::kFloat32);
  }

 private:
  torch::Tensor phi_;
};

const KvPressRegistrar kRegistrar("leverage", [](const PressOptions& o) { return std::make_unique<LeveragePress>(o); });

}  // namespace
}  // namespace chorus::inference
