#pragma once
// The vocabulary as a byte trie, to find every token whose bytes a byte-level matcher accepts in one walk
// that shares prefixes and drops a subtree at the first refused byte (tool-call-constraint.h).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus::inference {

class Tokenizer;

class TokenTrie {
 public:
  // token_bytes[id]: the bytes token id adds to the text ("" = never allowed). Ids in `markup` (added tokens
  // such as "<|im_end|>" or "</tool_call>") are kept out of the trie: they stand for markup, not for their
  // characters.
  explicit TokenTrie(std::vector<std::string> token_bytes, std::vector<int32_t> markup = {});
  // Every id below tokenizer.id_end(), with the bytes decode() gives it after other tokens; its added tokens
  // as markup.
  static TokenTrie of(const Tokenizer& tokenizer);

  // Ids covered (one more than the largest).
  size_t size() const { return bytes_.size(); }
  const std::string& bytes(int64_t id) const;
  const std::vector<int32_t>& markup() const { return markup_; }

  // Sets allowed[id] = 1 for each token (markup aside) whose bytes `start` accepts one after another (State:
  // copyable, with `bool advance(unsigned char)`, false = refused); `allowed` must hold size() entries. A
  // State may also offer `bool inside_plain_string() const`: true when any text without '"', '\\' or control
  // bytes that is well-formed UTF-8 from a character boundary continues it, so that such tokens (most of a
  // vocabulary) need no walk.
  template <class State>
  void mark_accepted(const State& start, std::vector<uint8_t>& allowed) const {
    if constexpr (requires { start.inside_plain_string(); }) {
      if (start.inside_plain_string()) {
        for (int32_t id : plain_) allowed[static_cast<size_t>(id)] = 1;
        walk(unplain_nodes_, start, allowed);
        return;
      }
    }
    walk(nodes_, start, allowed);
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    std::vector<int32_t> ids;  // tokens whose bytes end here
  };
  static void insert(std::vector<Node>& nodes, const std::string& bytes, int32_t id);
  template <class State>
  static void walk(const std::vector<Node>& nodes, const State& start, std::vector<uint8_t>& allowed) {
    std::vector<std::pair<int32_t, State>> pending;
    pending.emplace_back(0, start);
    while (!pending.empty()) {
      auto [index, state] = std::move(pending.back());
      pending.pop_back();
      const Node& node = nodes[static_cast<size_t>(index)];
      for (int32_t id : node.ids) allowed[static_cast<size_t>(id)] = 1;
      for (const auto& [byte, child] : node.children) {
        State next = state;
        if (next.advance(byte)) pending.emplace_back(child, std::move(next));
      }
    }
  }
  std::vector<std::string> bytes_;
  std::vector<int32_t> markup_;
  std::vector<int32_t> plain_;       // tokens without '"', '\\' or control bytes, well-formed UTF-8
  std::vector<Node> nodes_;          // every token but markup
  std::vector<Node> unplain_nodes_;  // the tokens not in plain_
};

}  // namespace chorus::inference
