#pragma once
// Chat templates: renders a Hugging Face chat_template (Jinja) the way transformers' apply_chat_template does
// (trim_blocks, lstrip_blocks, raise_exception, strftime_now, tojson as json.dumps).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "inference/jinja-error.h"
#include "inference/jinja-interpreter.h"

namespace chorus::inference {

// A template that fails to compile or render: what() is "line:column: problem".
using TemplateError = jinja::TemplateError;
// The template called raise_exception(message): what() is exactly the template's message.
using TemplateRaisedError = jinja::TemplateRaisedError;

// Per-model settings of a chat template.
struct ChatTemplateOptions {
  std::optional<std::string> bos_token;  // passed as `bos_token` when set
  std::optional<std::string> eos_token;  // passed as `eos_token` when set
  // The time strftime_now() formats (local time zone); default std::chrono::system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// A chat template compiled once and rendered per conversation.
class ChatTemplate {
 public:
  // Compiles the template once; throws TemplateError for syntax errors.
  explicit ChatTemplate(const std::string& source, ChatTemplateOptions options = {});
  // Renders `messages` (and `tools`, null = none) plus extra_context's members as further variables.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools = nullptr,
                     bool add_generation_prompt = false,
                     const nlohmann::ordered_json& extra_context = nlohmann::ordered_json::object()) const;
  // Renders with exactly the members of `context` as variables (plus bos/eos tokens when set, strftime_now).
  std::string render_context(const nlohmann::ordered_json& context) const;

 private:
  jinja::Template template_;
  ChatTemplateOptions options_;
};

// One-shot: compiles `template_source` and renders it with the members of `context` as variables.
std::string render_chat_template(const std::string& template_source, const nlohmann::ordered_json& context);

}  // namespace chorus::inference
