#include "training/passkey-data.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::training {
namespace {

// Neutral sentences without digits (so the key is the only number in the context).
const char* const kFiller[] = {
    "The grass is green.",
    "The sky is blue.",
    "The sun is yellow.",
    "Here we go.",
    "There and back again.",
    "The river runs past the old mill.",
    "A small bird sings on the fence.",
    "The wind moves slowly over the hills.",
    "Clouds drift across the afternoon sky.",
    "The road winds through the quiet valley.",
    "Leaves fall gently in the autumn air.",
    "A cat sleeps in the warm window.",
    "The market opens early in the morning.",
    "Waves roll softly onto the sandy shore.",
    "The lamp casts a soft light on the table.",
    "Children play in the park after school.",
};
constexpr uint64_t kFillerCount = sizeof(kFiller) / sizeof(kFiller[0]);

const char* const kIntro =
    "There is an important piece of information hidden inside a lot of irrelevant text. Find it and memorize it. "
    "I will quiz you about it.";

// splitmix64: a fixed, portable stream.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The i-th value of stream `stream` for `seed`: independent of how many values are drawn.
uint64_t draw(uint64_t seed, uint64_t stream, uint64_t i) { return mix(mix(seed ^ mix(stream)) + i); }

std::string make_key(uint64_t seed, int digits) {
  std::string key;
  for (int i = 0; i < digits; ++i) {
    const uint64_t r = draw(seed, 1, static_cast<uint64_t>(i));
    key.push_back(static_cast<char>('0' + (i == 0 ? 1 + r % 9 : r % 10)));
  }
  return key;
}

}  // namespace

PasskeyPrompt make_passkey_prompt(const PasskeyParams& p) {
  if (!(p.depth >= 0.0 && p.depth <= 1.0))
    throw std::invalid_argument("passkey depth must be in [0, 1], got " + std::to_string(p.depth));
  if (p.filler_sentences < 0) throw std::invalid_argument("passkey filler_sentences must be >= 0");
  if (p.digits < 1 || p.digits > 18) throw std::invalid_argument("passkey digits must be in 1..18");
  PasskeyPrompt out;
  out.answer = make_key(p.seed, p.digits);
  out.question = kPasskeyQuestion;
  out.filler_sentences = p.filler_sentences;
  out.depth = p.depth;
  const auto needle_at = static_cast<int64_t>(std::llround(p.depth * static_cast<double>(p.filler_sentences)));
  const std::string needle = "The pass key is " + out.answer + ". Remember it. " + out.answer + " is the pass key.";
  out.context = kIntro;
  for (int64_t i = 0; i <= p.filler_sentences; ++i) {
    if (i == needle_at) out.context += " " + needle;
    if (i == p.filler_sentences) break;
    out.context += " ";
    out.context += kFiller[draw(p.seed, 2, static_cast<uint64_t>(i)) % kFillerCount];
  }
  return out;
}

PasskeyPrompt make_passkey_prompt_for_tokens(int64_t min_tokens, const PasskeyParams& params,
                                             const TokenCounter& count, int64_t max_filler) {
  if (min_tokens < 1) throw std::invalid_argument("passkey length must be >= 1 token");
  PasskeyParams p = params;
  auto tokens_with = [&](int64_t n) {
    p.filler_sentences = n;
    return count(make_passkey_prompt(p).context);
  };
  if (tokens_with(0) >= min_tokens) {
    p.filler_sentences = 0;
    return make_passkey_prompt(p);
  }
  // Grow until long enough: lo is too short, hi is long enough.
  int64_t lo = 0, hi = 16;
  while (tokens_with(hi) < min_tokens) {
    if (hi >= max_filler)
      throw std::invalid_argument("passkey: " + std::to_string(max_filler) + " filler sentences give fewer than " +
                                  std::to_string(min_tokens) + " tokens");
    lo = hi;
    hi = std::min(hi * 2, max_filler);
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (tokens_with(mid) >= min_tokens ? hi : lo) = mid;
  }
  p.filler_sentences = hi;
  return make_passkey_prompt(p);
}

}  // namespace chorus::training
