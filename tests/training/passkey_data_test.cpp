// cli/passkey-data: the seeded passkey prompt generator (tokenizer-free, deterministic).
#include "training/passkey-data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

namespace chorus::training {
namespace {

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

int64_t words(const std::string& text) {
  std::istringstream in(text);
  int64_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

TEST(PasskeyData, PromptHasOneNeedleWithTheKeyAndTheFixedQuestion) {
  auto p = make_passkey_prompt({.filler_sentences = 40, .depth = 0.5, .seed = 7});
  ASSERT_EQ(p.answer.size(), 5u);
  EXPECT_NE(p.answer[0], '0');
  EXPECT_TRUE(std::all_of(p.answer.begin(), p.answer.end(), [](char c) { return c >= '0' && c <= '9'; }));
  EXPECT_EQ(p.question, "What is the pass key? The pass key is");
  const std::string needle = "The pass key is " + p.answer + ". Remember it. " + p.answer + " is the pass key.";
  EXPECT_EQ(count_of(p.context, needle), 1u) << p.context;
  // The key is the only number: its two mentions are the only digits.
  EXPECT_EQ(std::count_if(p.context.begin(), p.context.end(), [](char c) { return c >= '0' && c <= '9'; }), 10);
  EXPECT_EQ(p.filler_sentences, 40);
  EXPECT_EQ(p.depth, 0.5);
}

TEST(PasskeyData, SameParametersGiveTheSameTextAndSeedsVaryTheKey) {
  PasskeyParams params{.filler_sentences = 30, .depth = 0.25, .seed = 3};
  auto a = make_passkey_prompt(params), b = make_passkey_prompt(params);
  EXPECT_EQ(a.context, b.context);
  EXPECT_EQ(a.answer, b.answer);
  std::set<std::string> keys;
  for (uint64_t seed = 0; seed < 20; ++seed) keys.insert(make_passkey_prompt({.filler_sentences = 5, .seed = seed}).answer);
  EXPECT_GE(keys.size(), 18u);
  // The filler is drawn from the seed too.
  EXPECT_NE(make_passkey_prompt({.filler_sentences = 30, .depth = 0.25, .seed = 4}).context, a.context);
}

TEST(PasskeyData, DepthPlacesTheNeedle) {
  auto first = make_passkey_prompt({.filler_sentences = 20, .depth = 0.0, .seed = 1});
  auto last = make_passkey_prompt({.filler_sentences = 20, .depth = 1.0, .seed = 1});
  auto middle = make_passkey_prompt({.filler_sentences = 20, .depth = 0.5, .seed = 1});
  const std::string tail = first.answer + " is the pass key.";
  EXPECT_EQ(last.context.substr(last.context.size() - tail.size()), tail);
  EXPECT_LT(first.context.find("The pass key is"), 200u);  // right after the intro
  const double at = static_cast<double>(middle.context.find("The pass key is")) / static_cast<double>(middle.context.size());
  EXPECT_GT(at, 0.3);
  EXPECT_LT(at, 0.7);
}

TEST(PasskeyData, MoreFillerKeepsKeyAndSentencesAlreadyChosen) {
  auto small = make_passkey_prompt({.filler_sentences = 10, .depth = 1.0, .seed = 9});
  auto big = make_passkey_prompt({.filler_sentences = 50, .depth = 1.0, .seed = 9});
  EXPECT_EQ(small.answer, big.answer);
  const auto needle_at = small.context.find(" The pass key is");
  EXPECT_EQ(big.context.substr(0, needle_at), small.context.substr(0, needle_at));
}

TEST(PasskeyData, ForTokensGivesTheSmallestFillerReachingTheLength) {
  for (int64_t length : {1, 30, 200, 1000}) {
    auto p = make_passkey_prompt_for_tokens(length, {.depth = 0.5, .seed = 2}, words);
    EXPECT_GE(words(p.context), length);
    if (p.filler_sentences > 0) {
      auto fewer = make_passkey_prompt({.filler_sentences = p.filler_sentences - 1, .depth = 0.5, .seed = 2});
      EXPECT_LT(words(fewer.context), length) << length;
    }
    EXPECT_EQ(p.answer, make_passkey_prompt({.filler_sentences = 0, .seed = 2}).answer);
  }
}

TEST(PasskeyData, BadParametersThrow) {
  EXPECT_THROW(make_passkey_prompt({.depth = 1.5}), std::invalid_argument);
  EXPECT_THROW(make_passkey_prompt({.depth = -0.1}), std::invalid_argument);
  EXPECT_THROW(make_passkey_prompt({.filler_sentences = -1}), std::invalid_argument);
  EXPECT_THROW(make_passkey_prompt({.digits = 0}), std::invalid_argument);
  EXPECT_THROW(make_passkey_prompt_for_tokens(0, {}, words), std::invalid_argument);
  EXPECT_THROW(make_passkey_prompt_for_tokens(100000, {}, words, /*max_filler=*/64), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::training
