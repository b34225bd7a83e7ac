// Streaming detokenizer: append each token's decoded bytes, emit the longest prefix that cannot be extended
// into a longer character. Concatenating all outputs (plus flush()) equals Tokenizer::decode of all ids.
#include "inference/detokenizer.h"

#include "inference/tokenizer.h"
#include "inference/unicode.h"

namespace chorus::inference {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens) {}

std::string StreamingDetokenizer::feed(int32_t id) {
  if (skip_special_ && tokenizer_->is_special(id)) return {};
  std::string bytes = tokenizer_->token_bytes(id, first_);
  if (bytes.empty()) return {};
  first_ = false;
  pending_ += bytes;
  size_t complete = utf8_complete_prefix(pending_);
  if (complete == 0) return {};
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, complete));
  pending_.erase(0, complete);
  return out;
}

std::string StreamingDetokenizer::flush() {
  std::string out = utf8_lossy(pending_);
  reset();
  return out;
}

void StreamingDetokenizer::reset() {
  pending_.clear();
  first_ = true;
}

}  // namespace chorus::inference
