#pragma once
// Tool calls in a model's generated text: Hermes/Qwen <tool_call>{...}</tool_call> blocks and Llama 3 JSON calls
// ({"name", "parameters"}, optionally after <|python_tag|>, several separated by ';').
#include "agents/llm.h"

#include <string>
#include <vector>

namespace chorus::agents {

// A tool-call block whose JSON could not be read; the caller reports it back to the model.
struct ToolCallParseError {
  std::string raw;      // the text of the block (inside the tags), exactly as generated
  std::string name;     // the tool name when it could still be recognised, else ""
  std::string message;  // what is wrong, e.g. "not valid JSON: ..."
};

// The result of parsing generated text.
struct ParsedToolCalls {
  std::string content;                     // the text with the call markup removed (trimmed when calls were found)
  std::vector<LlmToolCall> calls;          // ids "call_0", "call_1", ... in order
  std::vector<ToolCallParseError> errors;  // malformed blocks, in order
};

// Extracts the tool calls from `text`; arguments_text is the arguments re-serialized compactly when they are
// JSON, else the raw text. Text with no call markup comes back unchanged as content.
ParsedToolCalls parse_tool_calls(const std::string& text);

// The calls followed by one call per error (its recognised name or "", its raw text as arguments_text, ids
// continuing the numbering), so that a tool loop reports each unreadable call back to the model.
std::vector<LlmToolCall> calls_with_errors(ParsedToolCalls parsed);

}  // namespace chorus::agents
