#pragma once
// Generation: prefill a prompt, then decode token by token with a sampler until a stop condition.
#include "inference/kv-cache.h"
#include "inference/model.h"
#include "inference/sampler.h"
#include "inference/token-constraint.h"

#include <functional>
#include <string>
#include <vector>

namespace chorus::inference {

class Tokenizer;

struct GenerationRequest {
  std::vector<int64_t> prompt;             // token ids run after what the cache already holds
  SamplingParams sampling;
  int64_t max_new_tokens = 256;
  std::vector<int64_t> stop_token_ids;     // e.g. the model's eos ids; included in ids, not in text
  std::vector<std::string> stop_strings;   // generation ends when the text contains one; it is cut from text
  LayerObserver observer;                  // given to every forward (e.g. a StreamingEvictor's); may be empty
  TokenConstraint* constraint = nullptr;   // masks the tokens it does not allow before each draw; may be null
};

struct GenerationResult {
  std::vector<int64_t> ids;                // new ids (a stop token id, if hit, is the last)
  std::string text;                        // their text (without stop token or stop string); needs a tokenizer
  std::string finish_reason;               // "stop" (stop token or string) or "length"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0;              // prompt forward (gives the first new token)
  double decode_seconds = 0;               // every later forward
  // New tokens per second of decoding (first token excluded; 0 if only one token was made).
  double decode_tokens_per_second() const;
};

// Called with each new id and the text it completed; return false to stop early.
using TokenCallback = std::function<bool(int64_t id, const std::string& text)>;

// Runs `request` on `model`, continuing `cache` (a fresh cache for a new conversation). `tokenizer` may be
// null (then no text and no stop strings). Throws std::invalid_argument on an empty prompt or bad ids.
GenerationResult generate(const Model& model, const Tokenizer* tokenizer, KvCache& cache,
                          const GenerationRequest& request, const TokenCallback& on_token = nullptr);

}  // namespace chorus::inference
