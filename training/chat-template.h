#pragma once
// The chat template of the project's own model: ChatML turns in the Hermes / Qwen2.5 tool-calling format, written
// for this project (original wording) and rendered by our engine (inference/chat-template.h).
//
//   <|im_start|>system\n{system}<|im_end|>\n          (only when a system message or tools are given)
//   <|im_start|>user\n{content}<|im_end|>\n
//   <|im_start|>assistant\n{content}<|im_end|>\n
//
// With tools, the system turn holds the system message (or kChorusDefaultSystem), then a "# Tools" section with
// one line per tool (OpenAI function format): its signature, `name(arg: type, optional?: "a"|"b")`, and the first
// sentence of its description (the rest is left out to keep the prompt short for a small model), then how to call
// one.
// An assistant message's tool_calls ({"type": "function", "function": {"name", "arguments"}}, or just
// {"name", "arguments"}; arguments a JSON object or a JSON text) follow its content, one per block:
//   <tool_call>\n{"name": "calculator", "arguments": {"expression": "2+2"}}\n</tool_call>
// separated by "\n" (and separated from non-empty content by "\n"). Tool messages (role "tool") go in one user
// turn per run of consecutive tool messages, each as <tool_response>\n{content}\n</tool_response>, joined by
// "\n" (content that is not a string is written as JSON). add_generation_prompt appends
// "<|im_start|>assistant\n".
#include <string>

namespace chorus::training {

// The system text used when tools are given without a system message.
inline constexpr const char* kChorusDefaultSystem = "You are Chorus, a helpful assistant.";

// The Jinja source (for tokenizer_config.json's "chat_template").
extern const char* const kChorusChatTemplate;

// The same text as a string.
std::string chorus_chat_template();

}  // namespace chorus::training
