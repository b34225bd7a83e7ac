#pragma once
// Pre-tokenizers of tokenizer.json ("pre_tokenizer"): Split, ByteLevel, Sequence, Digits, Whitespace,
// WhitespaceSplit, Punctuation. They cut normalized text into pre-tokens, which the model encodes one by one.
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::inference {

class JsonRef;

// The pre-tokens of one text segment.
struct PreTokens {
  std::vector<std::string_view> pieces;  // in text order; views into the input or into storage
  std::deque<std::string> storage;       // text created by pre-tokenizers (e.g. an added prefix space)
  bool byte_level = false;               // pieces are raw bytes standing for their ByteLevel alphabet text
  // Replaces byte_level pieces by their alphabet text (needed before a further pre-tokenizer runs).
  void materialize();
};

// How matches of a split pattern become pieces (Hugging Face SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Cuts text at matches ([begin, end) byte ranges, sorted, disjoint) the way Hugging Face's
// NormalizedString::split does, appending the non-empty pieces to out.
void split_by_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<std::string_view>& out);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits (and possibly rewrites) every piece of tokens.
  virtual void apply(PreTokens& tokens) const = 0;
};

// Builds the pre-tokenizer described by a tokenizer.json value; nullptr for null. Throws TokenizerError.
std::unique_ptr<PreTokenizer> make_pretokenizer(const JsonRef& config);

// The GPT-2 pattern that ByteLevel uses with use_regex.
inline constexpr char kGpt2Pattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace chorus::inference
