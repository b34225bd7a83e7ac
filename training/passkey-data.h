#pragma once
// Passkey retrieval prompts (the landmark-attention / kvpress "needle" test): filler sentences with one
// sentence giving a 5-digit pass key hidden at a relative depth, and a question asking for it.
//
// Tokenizer-free and deterministic: the same parameters give the same text on every platform (the random
// choices use a fixed splitmix64 stream, not <random>'s implementation-defined distributions).
#include <cstdint>
#include <functional>
#include <string>

namespace chorus::training {

// One prompt: the context (to compress), the question (asked after it, never compressed) and the answer.
struct PasskeyPrompt {
  std::string context;   // intro + filler with the needle sentence at `depth`
  std::string question;  // "What is the pass key? The pass key is"
  std::string answer;    // the pass key digits, e.g. "60312"
  int64_t filler_sentences = 0;
  double depth = 0;      // where the needle sits: 0 = before all filler, 1 = after all filler
};

// What to generate.
struct PasskeyParams {
  int64_t filler_sentences = 100;  // filler sentences around the needle (>= 0)
  double depth = 0.5;              // in [0, 1]: the needle goes after round(depth * filler_sentences) sentences
  uint64_t seed = 0;               // picks the key and the filler; the key does not depend on the filler size
  int digits = 5;                  // key length, 1..18 (the first digit is never 0)
};

// The prompt for `params`; throws std::invalid_argument for a depth outside [0, 1], a negative filler count
// or bad digits. With the same seed and depth, a larger filler_sentences only adds sentences: the key and the
// sentences chosen so far stay the same.
PasskeyPrompt make_passkey_prompt(const PasskeyParams& params);

// Counts the tokens of a context text (e.g. a tokenizer's encode(text).size()).
using TokenCounter = std::function<int64_t(const std::string& text)>;

// The prompt with the fewest filler sentences whose context has at least `min_tokens` tokens by `count`
// (grows the filler, then bisects). `params.filler_sentences` is ignored. Throws std::invalid_argument when
// min_tokens < 1 or when even `max_filler` sentences are too few.
PasskeyPrompt make_passkey_prompt_for_tokens(int64_t min_tokens, const PasskeyParams& params,
                                             const TokenCounter& count, int64_t max_filler = 1 << 20);

// The question every prompt asks.
inline constexpr const char* kPasskeyQuestion = "What is the pass key? The pass key is";

}  // namespace chorus::training
