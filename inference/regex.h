#pragma once
// A small backtracking regex engine over code points, covering the syntax of tokenizer pre-tokenizer patterns
// (Oniguruma / fancy-regex semantics: leftmost-first alternation, greedy quantifiers).
//
// Supported: literals and escapes (\r \n \t \f \v \e \a \0 \xHH \x{H..} \uHHHH, escaped punctuation), `.`,
// classes [...] with ranges, negation and \p{..} \P{..} \s \S \d \D \w \W inside, \p{L} / \pL general categories
// (one- and two-letter names, long names such as Letter, and White_Space), groups (...) (?:...) (?i:...) (?-i:...)
// (?i) (?>...), lookahead (?=...) (?!...), quantifiers ? * + {m} {m,} {m,n} in greedy, lazy (?) and possessive (+)
// forms. \s is White_Space, \d is Nd, \w is L|M|Nd|Pc (Oniguruma's Unicode definitions).
// Not supported (compile error): anchors, backreferences, lookbehind, nested classes / class set operations.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::inference {

// A pattern that failed to compile; the message names the problem and its byte offset in the pattern.
class RegexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Regex {
 public:
  // Compiles a UTF-8 pattern once; throws RegexError.
  explicit Regex(std::string_view pattern);

  // All non-empty, non-overlapping matches scanning left to right, as [begin, end) code point offsets.
  std::vector<std::pair<size_t, size_t>> find_all(std::u32string_view text) const;
  // Like find_all, appending to out (reuses its storage).
  void find_all(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) const;
  // The end of the preferred match starting exactly at pos, or npos when there is none.
  size_t match_at(std::u32string_view text, size_t pos) const;
  // The pattern as given.
  const std::string& pattern() const;

  static constexpr size_t npos = static_cast<size_t>(-1);
  // The compiled form (defined in regex.cpp).
  struct Program;

 private:
  std::shared_ptr<const Program> program_;
};

}  // namespace chorus::inference
