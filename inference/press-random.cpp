// Random press: uniform [0, 1) scores from a generator seeded with (seed, layer); a baseline.
#include "inference/kv-press.h"

#include <ATen/CPUGeneratorImpl.h>

namespace chorus::inference {
namespace {

class RandomPress final : public KvPress {
 public:
  explicit RandomPress(const PressOptions& o) : seed_(o.seed) {}
  std::string name() const override { return "random"; }
  torch::Tensor score(const PressInput& in) const override {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed_ * 1000003ULL + static_cast<uint64_t>(in.layer));
    return torch::rand({in.keys.size(0), in.keys.size(1)}, gen, torch::kFloat32);
  }

 private:
  uint64_t seed_;
};

const KvPressRegistrar kRegistrar("random", [](const PressOptions& o) { return std::make_unique<RandomPress>(o); });

}  // namespace
}  // namespace chorus::inference
