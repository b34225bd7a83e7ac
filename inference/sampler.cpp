#include "inference/sampler.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <unordered_map>

namespace chorus::inference {
namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (!(params.temperature >= 0)) throw std::invalid_argument("temperature must be >= 0");
  if (params.top_k < 0) throw std::invalid_argument("top_k must be >= 0");
  if (!(params.top_p > 0 && params.top_p <= 1)) throw std::invalid_argument("top_p must be in (0, 1]");
  if (!(params.min_p >= 0 && params.min_p <= 1)) throw std::invalid_argument("min_p must be in [0, 1]");
  if (!(params.repetition_penalty > 0)) throw std::invalid_argument("repetition_penalty must be > 0");
}

torch::Tensor Sampler::process(const torch::Tensor& logits_in, const std::vector<int64_t>& context,
                               size_t generated) const {
  auto logits = logits_in.to(torch::kCPU, torch::kFloat32).contiguous().clone();
  float* l = logits.data_ptr<float>();
  const int64_t vocab = logits.numel();
  if (params_.repetition_penalty != 1.0) {
    std::vector<bool> seen(static_cast<size_t>(vocab), false);
    for (auto id : context)
      if (id >= 0 && id < vocab && !seen[id]) {
        seen[id] = true;
        l[id] = l[id] > 0 ? static_cast<float>(l[id] / params_.repetition_penalty)
                          : static_cast<float>(l[id] * params_.repetition_penalty);
      }
  }
  if (params_.presence_penalty != 0 || params_.frequency_penalty != 0) {
    std::unordered_map<int64_t, int> counts;
    for (size_t i = context.size() - std::min(generated, context.size()); i < context.size(); ++i) ++counts[context[i]];
    for (auto [id, count] : counts)
      if (id >= 0 && id < vocab)
        l[id] -= static_cast<float>(params_.presence_penalty + params_.frequency_penalty * count);
  }
  if (params_.temperature == 0) return logits;
  logits.div_(params_.temperature);
  if (params_.top_k > 0 && params_.top_k < vocab) {
    auto kth = std::get<0>(logits.topk(params_.top_k)).min().item<float>();
    logits.masked_fill_(logits < kth, kNegInf);
  }
  if (params_.top_p < 1.0) {
    auto [sorted, order] = logits.sort(/*dim=*/0, /*descending=*/true);
    auto cumulative = torch::softmax(sorted, 0).cumsum(0);
    // Remove tokens once the mass before them already reaches top_p (always keep the first).
    auto remove = (cumulative - torch::softmax(sorted, 0)) >= params_.top_p;
    logits.index_put_({order.masked_select(remove)}, kNegInf);
  }
  if (params_.min_p > 0) {
    auto probs = torch::softmax(logits, 0);
    auto threshold = probs.max().item<float>() * params_.min_p;
    logits.masked_fill_(probs < threshold, kNegInf);
  }
  return logits;
}

int64_t Sampler::sample(const torch::Tensor& logits, const std::vector<int64_t>& context, size_t generated) {
  auto processed = process(logits, context, generated);
  const float* l = processed.data_ptr<float>();
  const int64_t vocab = processed.numel();
  if (params_.temperature == 0) {
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (l[i] > l[best]) best = i;
    return best;
  }
  float max = kNegInf;
  for (int64_t i = 0; i < vocab; ++i) max = std::max(max, l[i]);
  std::vector<double> weights(static_cast<size_t>(vocab));
  double total = 0;
  for (int64_t i = 0; i < vocab; ++i) total += weights[i] = l[i] == kNegInf ? 0.0 : std::exp(double(l[i]) - max);
  std::uniform_real_distribution<double> uniform(0.0, total);
  double r = uniform(rng_);
  for (int64_t i = 0; i < vocab; ++i) {
    r -= weights[i];
    if (r < 0 && weights[i] > 0) return i;
  }
  for (int64_t i = vocab - 1; i >= 0; --i)
    if (weights[i] > 0) return i;
  return 0;
}

}  // namespace chorus::inference
