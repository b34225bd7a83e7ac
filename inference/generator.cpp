#include "inference/generator.h"

#include "inference/detokenizer.h"
#include "inference/tokenizer.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <stdexcept>

namespace chorus::inference {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// `row` with the logits of ids not allowed (allowed[id] == 0, or id past allowed.size()) set to -inf.
torch::Tensor only_allowed(const torch::Tensor& row, const std::vector<uint8_t>& allowed) {
  const int64_t n = row.size(0);
  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  std::copy_n(allowed.begin(), std::min<size_t>(allowed.size(), keep.size()), keep.begin());
  const torch::Tensor mask = torch::from_blob(keep.data(), {n}, torch::kUInt8).to(row.device()).to(torch::kBool);
  return row.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
}

}  // namespace

double GenerationResult::decode_tokens_per_second() const {
  const auto steps = static_cast<double>(ids.size()) - 1;
  return steps > 0 && decode_seconds > 0 ? steps / decode_seconds : 0.0;
}

GenerationResult generate(const Model& model, const Tokenizer* tokenizer, KvCache& cache,
                          const GenerationRequest& request, const TokenCallback& on_token) {
  if (request.prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  if (request.max_new_tokens < 0) throw std::invalid_argument("generate: max_new_tokens must be >= 0");
  if (!request.stop_strings.empty() && !tokenizer)
    throw std::invalid_argument("generate: stop strings need a tokenizer");
  GenerationResult result;
  result.prompt_tokens = static_cast<int64_t>(request.prompt.size());
  result.finish_reason = "length";
  Sampler sampler(request.sampling);
  std::vector<int64_t> context = request.prompt;
  std::optional<StreamingDetokenizer> detok;
  if (tokenizer) detok.emplace(*tokenizer, /*skip_special_tokens=*/false);
  std::vector<uint8_t> allowed;  // the constraint's mask
  size_t longest_stop = 0;
  for (const auto& s : request.stop_strings) longest_stop = std::max(longest_stop, s.size());

  auto start = Clock::now();
  auto logits = model.forward(request.prompt, cache, /*last_only=*/true, request.observer);
  result.prefill_seconds = seconds_since(start);
  start = Clock::now();
  for (int64_t step = 0; step < request.max_new_tokens; ++step) {
    if (step > 0) logits = model.forward({context.back()}, cache, /*last_only=*/true, request.observer);
    torch::Tensor row = logits[0];
    if (request.constraint && request.constraint->mask_next(allowed)) row = only_allowed(row, allowed);
    const int64_t id = sampler.sample(row, context, result.ids.size());
    if (request.constraint) request.constraint->accept(id);
    context.push_back(id);
    result.ids.push_back(id);
    const bool is_stop_token =
        std::find(request.stop_token_ids.begin(), request.stop_token_ids.end(), id) != request.stop_token_ids.end();
    if (is_stop_token) {
      result.finish_reason = "stop";
      break;
    }
    std::string piece = detok ? detok->feed(static_cast<int32_t>(id)) : std::string();
    if (!piece.empty() && longest_stop > 0) {
      // Search only where a stop string could newly end: the tail of the old text plus the new piece.
      const size_t from = result.text.size() > longest_stop ? result.text.size() - longest_stop : 0;
      result.text += piece;
      size_t cut = std::string::npos;
      for (const auto& s : request.stop_strings)
        if (auto at = result.text.find(s, from); at != std::string::npos) cut = std::min(cut, at);
      if (cut != std::string::npos) {
        const size_t kept_before = result.text.size() - piece.size();
        piece = cut > kept_before ? piece.substr(0, cut - kept_before) : std::string();
        result.text.resize(cut);
        if (on_token) on_token(id, piece);
        result.finish_reason = "stop";
        break;
      }
    } else {
      result.text += piece;
    }
    if (on_token && !on_token(id, piece)) {
      result.finish_reason = "stop";
      break;
    }
  }
  if (detok && result.finish_reason == "length") result.text += detok->flush();
  result.decode_seconds = result.ids.size() > 1 ? seconds_since(start) : 0.0;
  return result;
}

}  // namespace chorus::inference
