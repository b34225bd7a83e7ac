// Pre-tokenizers. Pieces stay views into the segment text where possible; ByteLevel only flags them as
// byte-level so the model maps raw bytes to its alphabet directly instead of re-encoding every piece.
#include "inference/pretokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "inference/byte-level.h"
#include "inference/regex.h"
#include "inference/tokenizer-json.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

using Matches = std::vector<std::pair<size_t, size_t>>;

// Byte ranges of the regex matches in text (valid UTF-8).
void regex_matches(const Regex& re, std::string_view text, Matches& out) {
  thread_local std::u32string cpts;
  thread_local std::vector<uint32_t> offsets;
  thread_local Matches cpt_matches;
  cpts.clear();
  offsets.clear();
  cpt_matches.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    offsets.push_back(static_cast<uint32_t>(pos));
    auto c = static_cast<unsigned char>(text[pos]);
    if (c < 0x80) {
      cpts.push_back(c);
      ++pos;
    } else {
      cpts.push_back(utf8_decode(text, pos));
    }
  }
  offsets.push_back(static_cast<uint32_t>(text.size()));
  re.find_all(cpts, cpt_matches);
  out.clear();
  for (auto [b, e] : cpt_matches) out.emplace_back(offsets[b], offsets[e]);
}

// Byte ranges of the single characters satisfying pred.
template <typename Pred>
void char_matches(std::string_view text, Pred pred, Matches& out) {
  out.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    char32_t c = utf8_decode(text, pos);
    if (pred(c)) out.emplace_back(start, pos);
  }
}

SplitBehavior parse_behavior(const JsonRef& config) {
  JsonRef b = config.at("behavior");
  std::string name = b.as_string();
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  b.fail("\"" + name + "\" is not supported (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

// Base for pre-tokenizers that split each piece at matches.
class MatchSplitter : public PreTokenizer {
 public:
  MatchSplitter(SplitBehavior behavior, bool invert) : behavior_(behavior), invert_(invert) {}
  void apply(PreTokens& tokens) const override {
    if (tokens.byte_level) tokens.materialize();
    thread_local Matches matches;
    std::vector<std::string_view> out;
    out.reserve(tokens.pieces.size() * 2);
    for (std::string_view piece : tokens.pieces) {
      find(piece, matches);
      split_by_matches(piece, matches, behavior_, invert_, out);
    }
    tokens.pieces = std::move(out);
  }

 protected:
  virtual void find(std::string_view text, Matches& out) const = 0;

 private:
  SplitBehavior behavior_;
  bool invert_;
};

class RegexSplit : public MatchSplitter {
 public:
  RegexSplit(Regex re, SplitBehavior behavior, bool invert) : MatchSplitter(behavior, invert), re_(std::move(re)) {}

 protected:
  void find(std::string_view text, Matches& out) const override { regex_matches(re_, text, out); }

 private:
  Regex re_;
};

template <typename Pred>
class CharSplit : public MatchSplitter {
 public:
  CharSplit(Pred pred, SplitBehavior behavior) : MatchSplitter(behavior, false), pred_(pred) {}

 protected:
  void find(std::string_view text, Matches& out) const override { char_matches(text, pred_, out); }

 private:
  Pred pred_;
};

template <typename Pred>
std::unique_ptr<PreTokenizer> char_split(Pred pred, SplitBehavior behavior) {
  return std::make_unique<CharSplit<Pred>>(pred, behavior);
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
    if (use_regex_) re_ = std::make_unique<Regex>(kGpt2Pattern);
  }
  void apply(PreTokens& tokens) const override {
    if (tokens.byte_level) tokens.materialize();
    thread_local Matches matches;
    std::vector<std::string_view> out;
    out.reserve(tokens.pieces.size() * (use_regex_ ? 4 : 1));
    for (std::string_view piece : tokens.pieces) {
      if (add_prefix_space_ && (piece.empty() || piece[0] != ' ')) {
        std::string& prefixed = tokens.storage.emplace_back();
        prefixed.reserve(piece.size() + 1);
        prefixed.push_back(' ');
        prefixed.append(piece);
        piece = prefixed;
      }
      if (use_regex_) {
        regex_matches(*re_, piece, matches);
        split_by_matches(piece, matches, SplitBehavior::Isolated, false, out);
      } else if (!piece.empty()) {
        out.push_back(piece);
      }
    }
    tokens.pieces = std::move(out);
    tokens.byte_level = true;
  }

 private:
  bool add_prefix_space_;
  bool use_regex_;
  std::unique_ptr<Regex> re_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void apply(PreTokens& tokens) const override {
    for (const auto& step : steps_) step->apply(tokens);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

// A regex matching the literal string s.
std::string escape_literal(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == ' ' || u < 0x20))
      out.push_back('\\');
    if (u == '\n') {
      out += "\\n";
    } else if (u == '\r') {
      out += "\\r";
    } else if (u == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      static const char hex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool is_punctuation(char32_t c) {
  using G = GeneralCategory;
  uint32_t p = 0;
  for (G g : {G::Pc, G::Pd, G::Ps, G::Pe, G::Pi, G::Pf, G::Po}) p |= 1u << static_cast<int>(g);
  bool ascii_punct = c < 0x80 && ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~'));
  return ascii_punct || (unicode_props(c) & p) != 0;
}

}  // namespace

void PreTokens::materialize() {
  if (!byte_level) return;
  for (auto& piece : pieces) {
    storage.push_back(byte_level_encode(piece));
    piece = storage.back();
  }
  byte_level = false;
}

void split_by_matches(std::string_view text, const std::vector<std::pair<size_t, size_t>>& matches,
                      SplitBehavior behavior, bool invert, std::vector<std::string_view>& out) {
  if (behavior == SplitBehavior::Isolated) {  // every match and every gap is a piece; invert changes nothing
    size_t prev = 0;
    for (auto [b, e] : matches) {
      if (b > prev) out.push_back(text.substr(prev, b - prev));
      if (e > b) out.push_back(text.substr(b, e - b));
      prev = e;
    }
    if (prev < text.size()) out.push_back(text.substr(prev));
    return;
  }
  struct Seg {
    size_t begin, end;
    bool match;
  };
  std::vector<Seg> segs;
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (b > prev) segs.push_back({prev, b, false});
    segs.push_back({b, e, true});
    prev = e;
  }
  if (prev < text.size() || segs.empty()) segs.push_back({prev, text.size(), false});
  if (invert)
    for (auto& s : segs) s.match = !s.match;

  std::vector<Seg> res;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Isolated:
    case SplitBehavior::Removed: res = segs; break;
    case SplitBehavior::Contiguous:
      for (const Seg& s : segs) {
        if (s.match == previous_match && !res.empty())
          res.back().end = s.end;
        else
          res.push_back(s);
        previous_match = s.match;
      }
      for (auto& s : res) s.match = false;
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Seg& s : segs) {
        if (s.match && !previous_match && !res.empty())
          res.back().end = s.end;
        else
          res.push_back({s.begin, s.end, false});
        previous_match = s.match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->match && !previous_match && !res.empty())
          res.back().begin = it->begin;
        else
          res.push_back({it->begin, it->end, false});
        previous_match = it->match;
      }
      std::reverse(res.begin(), res.end());
      break;
  }
  for (const Seg& s : res) {
    if (behavior == SplitBehavior::Removed && s.match) continue;
    if (s.end > s.begin) out.push_back(text.substr(s.begin, s.end - s.begin));
  }
}

std::unique_ptr<PreTokenizer> make_pretokenizer(const JsonRef& config) {
  if (config.is_null()) return nullptr;
  config.expect_object();
  const std::string type = config.type();
  if (type == "Sequence") {
    JsonRef list = config.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      JsonRef item = list.at(i);
      if (item.is_null()) item.fail("must be an object, not null");
      steps.push_back(make_pretokenizer(item));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Split") {
    JsonRef pattern = config.at("pattern");
    pattern.expect_object();
    std::string source;
    if (pattern.has("Regex")) {
      source = pattern.string_at("Regex");
    } else if (pattern.has("String")) {
      std::string literal = pattern.string_at("String");
      if (literal.empty()) pattern.at("String").fail("must not be empty");
      source = escape_literal(literal);
    } else {
      pattern.fail("must have a \"Regex\" or \"String\" member");
    }
    SplitBehavior behavior = parse_behavior(config);
    bool invert = config.bool_or("invert", false);
    try {
      return std::make_unique<RegexSplit>(Regex(source), behavior, invert);
    } catch (const RegexError& e) {
      pattern.fail(std::string("is not supported: ") + e.what());
    }
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(config.bool_or("add_prefix_space", true),
                                                   config.bool_or("use_regex", true));
  }
  if (type == "Digits") {
    auto numeric = [](char32_t c) { return (unicode_props(c) & kPropNumber) != 0; };
    return char_split(numeric, config.bool_or("individual_digits", false) ? SplitBehavior::Isolated
                                                                          : SplitBehavior::Contiguous);
  }
  if (type == "Whitespace") {
    return std::make_unique<RegexSplit>(Regex(R"(\w+|[^\w\s]+)"), SplitBehavior::Removed, true);
  }
  if (type == "WhitespaceSplit") {
    return char_split([](char32_t c) { return unicode_is_white_space(c); }, SplitBehavior::Removed);
  }
  if (type == "Punctuation") {
    SplitBehavior behavior = config.has("behavior") ? parse_behavior(config) : SplitBehavior::Isolated;
    return char_split(is_punctuation, behavior);
  }
  config.unsupported_type(type, "Split, ByteLevel, Sequence, Digits, Whitespace, WhitespaceSplit, Punctuation");
}

}  // namespace chorus::inference
