#pragma once
// Added tokens ("added_tokens" of tokenizer.json): found in the input before normalization / pre-tokenization,
// leftmost-longest, honouring the single_word / lstrip / rstrip flags like Hugging Face's AddedVocabulary.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chorus::inference {

class Normalizer;

// An entry of tokenizer.json's "added_tokens".
struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false;  // only matches when not adjacent to word characters
  bool lstrip = false;       // the match takes in the whitespace on its left
  bool rstrip = false;       // the match takes in the whitespace on its right
  bool normalized = false;   // matched in normalized text (else in the raw input)
  bool special = false;      // dropped by decode(..., skip_special_tokens = true)
};

// A piece of text: an added token (id >= 0) or plain text (id = -1), as a byte range.
struct TextSegment {
  size_t begin, end;
  int32_t id;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // Indexes tokens; normalizer (may be null) normalizes the contents of normalized tokens for matching.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);
  // Splits raw input on the tokens with normalized = false; appends segments covering text.
  void split_raw(std::string_view text, std::vector<TextSegment>& out) const;
  // Splits normalized text on the tokens with normalized = true; appends segments covering text.
  void split_normalized(std::string_view text, std::vector<TextSegment>& out) const;
  // Whether there are tokens matched in raw / normalized text.
  bool has_raw() const;
  bool has_normalized() const;
  // The tokens in file order.
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  // The token with this id / content, or nullptr.
  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;

 private:
  class Trie;  // byte trie of token contents (added-tokens.cpp)
  void split(const Trie& trie, std::string_view text, std::vector<TextSegment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  std::shared_ptr<const Trie> raw_, normalized_;
};

}  // namespace chorus::inference
