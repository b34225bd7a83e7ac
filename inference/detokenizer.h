#pragma once
// Streaming detokenizer: turns generated ids into text as they arrive, emitting only complete UTF-8 (a
// character split over several byte-level tokens is held back until its last byte arrives).
#include <cstdint>
#include <string>

namespace chorus::inference {

class Tokenizer;

class StreamingDetokenizer {
 public:
  // tokenizer must outlive this object; skip_special_tokens drops special tokens as decode() does.
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  // Adds one token; returns the text completed by it (often empty, e.g. inside a multi-byte character).
  std::string feed(int32_t id);
  // Returns the held-back bytes (an incomplete character becomes U+FFFD) and starts a new sequence.
  std::string flush();
  // Forgets held-back bytes and starts a new sequence.
  void reset();
  // Number of bytes held back.
  size_t pending() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace chorus::inference
