// Leverage press (kvpress LeveragePress): z-scored ridge leverage of the centred, sketched pre-RoPE keys
// (or the exact eigendecomposition leverage of the paper with PressOptions::leverage_method = "eig").
#include "inference/kv-press.h"
#include "inference/press-scoring.h"

#include <stdexcept>

namespace chorus::inference {
namespace {

class LeveragePress final : public KvPress {
 public:
  explicit LeveragePress(const PressOptions& o) : phi_(o.phi), method_(o.leverage_method) {
    if (!phi_.defined()) throw std::invalid_argument("leverage: PressOptions::phi (the sketch) is required");
    check_leverage_method("leverage", method_);
  }
  std::string name() const override { return "leverage"; }
  bool needs_prerope_keys() const override { return true; }
  torch::Tensor score(const PressInput& in) const override {
    if (!in.prerope_keys.defined()) throw std::invalid_argument("leverage: needs pre-RoPE keys");
    return zscore_global(sketched_leverage(in.prerope_keys, phi_, method_)).to(torch::kFloat32);
  }

 private:
  torch::Tensor phi_;
  std::string method_;
};

const KvPressRegistrar kRegistrar("leverage", [](const PressOptions& o) { return std::make_unique<LeveragePress>(o); });

}  // namespace
}  // namespace chorus::inference
