#pragma once
// TokenizerConfig: the chat template and special-token strings of tokenizer_config.json (or chat_template.jinja).
#include <filesystem>
#include <optional>
#include <string>

namespace chorus::inference {

struct TokenizerConfig {
  std::optional<std::string> chat_template;  // the default template
  std::optional<std::string> bos_token;      // e.g. "<|begin_of_text|>"
  std::optional<std::string> eos_token;      // e.g. "<|eot_id|>"

  // Reads dir/tokenizer_config.json (all fields optional) and dir/chat_template.jinja when present
  // (it takes precedence, as in transformers); throws ModelError on malformed JSON or fields.
  static TokenizerConfig load(const std::filesystem::path& dir);
};

}  // namespace chorus::inference
