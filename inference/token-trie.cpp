#include "inference/token-trie.h"

#include "inference/tokenizer.h"
#include "inference/utf8-stepper.h"

#include <algorithm>

namespace chorus::inference {

void TokenTrie::insert(std::vector<Node>& nodes, const std::string& bytes, int32_t id) {
  if (nodes.empty()) nodes.emplace_back();
  int32_t at = 0;
  for (unsigned char byte : bytes) {
    auto& children = nodes[static_cast<size_t>(at)].children;
    const auto it =
        std::find_if(children.begin(), children.end(), [&](const auto& c) { return c.first == byte; });
    if (it != children.end()) {
      at = it->second;
      continue;
    }
    const auto next = static_cast<int32_t>(nodes.size());
    children.emplace_back(byte, next);
    nodes.emplace_back();  // invalidates `children`; not used again
    at = next;
  }
  nodes[static_cast<size_t>(at)].ids.push_back(id);
}

TokenTrie::TokenTrie(std::vector<std::string> token_bytes, std::vector<int32_t> markup)
    : bytes_(std::move(token_bytes)), markup_(std::move(markup)) {
  nodes_.emplace_back();
  unplain_nodes_.emplace_back();
  std::vector<bool> is_markup(bytes_.size(), false);
  for (int32_t id : markup_)
    if (id >= 0 && static_cast<size_t>(id) < bytes_.size()) is_markup[static_cast<size_t>(id)] = true;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    const std::string& b = bytes_[i];
    if (b.empty() || is_markup[i]) continue;
    const auto id = static_cast<int32_t>(i);
    insert(nodes_, b, id);
    Utf8Stepper utf8;  // plain: well-formed UTF-8 from a character boundary (it may end inside a character)
    const bool plain = std::all_of(b.begin(), b.end(), [&](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u != '"' && u != '\\' && u >= 0x20 && utf8.step(u);
    });
    if (plain)
      plain_.push_back(id);
    else
      insert(unplain_nodes_, b, id);
  }
}

TokenTrie TokenTrie::of(const Tokenizer& tokenizer) {
  std::vector<std::string> bytes(static_cast<size_t>(tokenizer.id_end()));
  for (size_t id = 0; id < bytes.size(); ++id) bytes[id] = tokenizer.token_bytes(static_cast<int32_t>(id));
  std::vector<int32_t> markup;
  for (const auto& added : tokenizer.added_tokens()) markup.push_back(added.id);
  return TokenTrie(std::move(bytes), std::move(markup));
}

const std::string& TokenTrie::bytes(int64_t id) const {
  static const std::string none;
  return id >= 0 && static_cast<size_t>(id) < bytes_.size() ? bytes_[static_cast<size_t>(id)] : none;
}

}  // namespace chorus::inference
