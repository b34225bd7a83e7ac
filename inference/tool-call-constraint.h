#pragma once
// Tool calls that always parse: in the Hermes/Qwen2.5 format, once the model writes "<tool_call>", only
// tokens that keep "{"name": ..., "arguments": {...}}</tool_call>" a valid call of an offered tool (its
// parameters schema, as far as json-schema-matcher.h checks it) may follow; outside a call nothing is masked.
// Added tokens ("<|im_end|>") are refused inside the JSON, so the model can neither stop nor write markup in
// the middle of a call.
#include "inference/json-schema-matcher.h"
#include "inference/token-constraint.h"
#include "inference/token-trie.h"

#include <memory>
#include <optional>
#include <string>

namespace chorus::inference {

class ToolCallConstraint : public TokenConstraint {
 public:
  // `call_schema` from compile_tool_call_schema(); `trie` the model's vocabulary.
  ToolCallConstraint(std::shared_ptr<const TokenTrie> trie, std::shared_ptr<const SchemaNode> call_schema);
  bool mask_next(std::vector<uint8_t>& allowed) override;
  void accept(int64_t id) override;
  // Constrains from the next token on as if "<tool_call>" had just been written (a prompt that ends with it).
  void begin_call() { call_.emplace(schema_); }
  // Whether a call is being written (tokens are masked).
  bool in_call() const { return call_.has_value(); }

  // The text of one call from just after "<tool_call>" to the end of "</tool_call>".
  struct CallState {
    explicit CallState(std::shared_ptr<const SchemaNode> schema) : json(std::move(schema)) {}
    bool advance(unsigned char byte);
    bool closed() const { return phase == 3; }
    bool inside_plain_string() const { return phase == 1 && json.inside_plain_string(); }
    JsonSchemaMatcher json;
    uint8_t phase = 0;    // 0 whitespace before '{', 1 the JSON, 2 whitespace and "</tool_call>", 3 closed
    uint8_t matched = 0;  // bytes of "</tool_call>" written
    uint8_t whitespace = 0;
  };

 private:
  void free_byte(unsigned char byte);
  std::shared_ptr<const TokenTrie> trie_;
  std::shared_ptr<const SchemaNode> schema_;
  std::string recent_;  // the last bytes outside a call, to spot "<tool_call>"
  std::optional<CallState> call_;
};

}  // namespace chorus::inference
