// AddedVocabulary: byte tries over token contents, scanned leftmost-longest (non-overlapping, like the
// aho-corasick LeftmostLongest iterator Hugging Face uses), then the single_word / lstrip / rstrip rules.
#include "inference/added-tokens.h"

#include <algorithm>
#include <array>

#include "inference/normalizer.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

// Unicode \w (Alphabetic, marks, decimal digits, connector punctuation, joiners), as the regex crate defines it.
bool is_word_char(char32_t c) {
  const uint32_t word = kPropLetter | kPropMark | (1u << static_cast<int>(GeneralCategory::Nd)) |
                        (1u << static_cast<int>(GeneralCategory::Nl)) | (1u << static_cast<int>(GeneralCategory::Pc));
  return (unicode_props(c) & word) != 0 || c == 0x200C || c == 0x200D;
}

// The code point that ends at byte offset end (valid UTF-8 assumed).
char32_t last_char_before(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  size_t pos = start;
  return utf8_decode(text, pos);
}

}  // namespace

class AddedVocabulary::Trie {
 public:
  Trie() { root_.fill(-1); }
  void insert(std::string_view s, int32_t token);
  bool empty() const { return nodes_.empty(); }
  // The length of the longest entry at text[pos] (0 when none); sets token.
  size_t longest(std::string_view text, size_t pos, int32_t& token) const;
  bool may_start(unsigned char c) const { return root_[c] >= 0; }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> next;
    int32_t token = -1;
  };
  int32_t child(int32_t node, unsigned char c) const;
  std::array<int32_t, 256> root_;  // children of the root, by byte
  std::vector<Node> nodes_;
};

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  if (s.empty()) return;
  if (nodes_.empty()) nodes_.emplace_back();  // node 0: the root's attributes (unused)
  auto c0 = static_cast<unsigned char>(s[0]);
  if (root_[c0] < 0) {
    root_[c0] = static_cast<int32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  int32_t node = root_[c0];
  for (size_t i = 1; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    int32_t next = child(node, c);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_[node].next.emplace_back(c, next);
      nodes_.emplace_back();
    }
    node = next;
  }
  nodes_[node].token = token;
}

int32_t AddedVocabulary::Trie::child(int32_t node, unsigned char c) const {
  for (auto [k, v] : nodes_[node].next)
    if (k == c) return v;
  return -1;
}

size_t AddedVocabulary::Trie::longest(std::string_view text, size_t pos, int32_t& token) const {
  int32_t node = root_[static_cast<unsigned char>(text[pos])];
  size_t best = 0;
  for (size_t i = pos + 1;; ++i) {
    if (node < 0) break;
    if (nodes_[node].token >= 0) {
      best = i - pos;
      token = nodes_[node].token;
    }
    if (i >= text.size()) break;
    node = child(node, static_cast<unsigned char>(text[i]));
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    by_id_[t.id] = i;
    by_content_[t.content] = i;
  }
  // Later duplicates of a content win, as in a map keyed by content.
  auto raw = std::make_shared<Trie>();
  auto normalized = std::make_shared<Trie>();
  for (const auto& [content, index] : by_content_) {
    const AddedToken& t = tokens_[index];
    if (t.normalized)
      normalized->insert(normalizer ? normalizer->apply(t.content) : t.content, static_cast<int32_t>(index));
    else
      raw->insert(t.content, static_cast<int32_t>(index));
  }
  raw_ = std::move(raw);
  normalized_ = std::move(normalized);
}

bool AddedVocabulary::has_raw() const { return raw_ && !raw_->empty(); }

bool AddedVocabulary::has_normalized() const { return normalized_ && !normalized_->empty(); }

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

void AddedVocabulary::split_raw(std::string_view text, std::vector<TextSegment>& out) const {
  if (has_raw())
    split(*raw_, text, out);
  else if (!text.empty())
    out.push_back({0, text.size(), -1});
}

void AddedVocabulary::split_normalized(std::string_view text, std::vector<TextSegment>& out) const {
  if (has_normalized())
    split(*normalized_, text, out);
  else if (!text.empty())
    out.push_back({0, text.size(), -1});
}

void AddedVocabulary::split(const Trie& trie, std::string_view text, std::vector<TextSegment>& out) const {
  size_t start_offset = 0;
  size_t pos = 0;
  const size_t n = text.size();
  if (!trie.empty()) {
    while (pos < n) {
      if (!trie.may_start(static_cast<unsigned char>(text[pos]))) {
        ++pos;
        continue;
      }
      int32_t index = -1;
      size_t len = trie.longest(text, pos, index);
      if (len == 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + len;
      pos = stop;  // the scan resumes after this match even when it is rejected below
      if (start < start_offset) continue;  // inside whitespace taken by a previous rstrip
      const AddedToken& t = tokens_[index];
      if (t.single_word) {
        bool start_ok = start == 0 || !is_word_char(last_char_before(text, start));
        size_t after = stop;
        bool stop_ok = stop == n || !is_word_char(utf8_decode(text, after));
        if (!start_ok || !stop_ok) continue;
      }
      if (t.lstrip) {
        size_t s = start;
        while (s > 0) {
          size_t prev = s - 1;
          while (prev > 0 && (static_cast<unsigned char>(text[prev]) & 0xC0) == 0x80) --prev;
          size_t p = prev;
          if (!unicode_is_white_space(utf8_decode(text, p))) break;
          s = prev;
        }
        start = std::max(s, start_offset);
      }
      if (t.rstrip) {
        while (stop < n) {
          size_t p = stop;
          if (!unicode_is_white_space(utf8_decode(text, p))) break;
          stop = p;
        }
      }
      if (start_offset < start) out.push_back({start_offset, start, -1});
      out.push_back({start, stop, t.id});
      start_offset = stop;
      pos = std::max(pos, stop);
    }
  }
  if (start_offset < n) out.push_back({start_offset, n, -1});
}

}  // namespace chorus::inference
