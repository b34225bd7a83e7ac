#pragma once
// Short one-line summaries of JSON payloads (LLM requests and replies, tool calls, task outputs) for run events.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace chorus::runtime {

// `text` on one line (newlines and tabs as spaces), cut to `max_chars` bytes (UTF-8 safe) with "..." when longer.
std::string one_line(const std::string& text, std::size_t max_chars = 80);

// A one-line summary of a payload: a string as it is; a chat request's last message; a reply's content or its
// tool calls; a tool call's name and arguments; anything else as compact JSON. Cut like one_line().
std::string summarize_json(const nlohmann::json& value, std::size_t max_chars = 80);

}  // namespace chorus::runtime
