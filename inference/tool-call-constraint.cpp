#include "inference/tool-call-constraint.h"

#include <algorithm>
#include <string_view>

namespace chorus::inference {
namespace {

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";
constexpr uint8_t kMaxWhitespace = 8;

bool is_ws(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace

bool ToolCallConstraint::CallState::advance(unsigned char byte) {
  switch (phase) {
    case 0:
      if (is_ws(byte)) return ++whitespace <= kMaxWhitespace;
      if (byte != '{' || !json.advance(byte)) return false;
      phase = 1;
      return true;
    case 1:
      if (!json.advance(byte)) return false;
      if (json.complete()) phase = 2, whitespace = 0;
      return true;
    case 2:
      if (matched == 0 && is_ws(byte)) return ++whitespace <= kMaxWhitespace;
      if (byte != static_cast<unsigned char>(kClose[matched])) return false;
      if (static_cast<size_t>(++matched) == kClose.size()) phase = 3;
      return true;
    default:
      return true;  // after the call: anything
  }
}

ToolCallConstraint::ToolCallConstraint(std::shared_ptr<const TokenTrie> trie,
                                       std::shared_ptr<const SchemaNode> call_schema)
    : trie_(std::move(trie)), schema_(std::move(call_schema)) {}

bool ToolCallConstraint::mask_next(std::vector<uint8_t>& allowed) {
  if (!call_) return false;
  allowed.assign(trie_->size(), 0);
  trie_->mark_accepted(*call_, allowed);
  if (call_->phase == 2)  // the JSON is whole: "</tool_call>" may come as its added token
    for (int32_t id : trie_->markup()) {
      CallState next = *call_;
      const std::string& bytes = trie_->bytes(id);
      if (!bytes.empty() && std::all_of(bytes.begin(), bytes.end(),
                                        [&](char b) { return next.advance(static_cast<unsigned char>(b)); }))
        allowed[static_cast<size_t>(id)] = 1;
    }
  if (std::find(allowed.begin(), allowed.end(), 1) == allowed.end()) {
    call_.reset();  // no token fits (a vocabulary without some character): let the model write freely
    return false;
  }
  return true;
}

void ToolCallConstraint::free_byte(unsigned char byte) {
  recent_.push_back(static_cast<char>(byte));
  if (recent_.size() > kOpen.size()) recent_.erase(0, recent_.size() - kOpen.size());
  if (recent_ == kOpen) {
    recent_.clear();
    call_.emplace(schema_);
  }
}

void ToolCallConstraint::accept(int64_t id) {
  for (unsigned char byte : trie_->bytes(id)) {
    if (!call_) {
      free_byte(byte);
      continue;
    }
    if (!call_->advance(byte)) {
      call_.reset();  // a byte the mask did not offer (the token that opened the call): stop constraining it
      continue;
    }
    if (call_->closed()) call_.reset();
  }
}

}  // namespace chorus::inference
