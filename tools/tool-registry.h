#pragma once
// ToolRegistry: the set of tools an agent may call; validates arguments before running a handler.
#include "tools/tool.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chorus::tools {

class JsonSchema;

// How a call ended.
enum class CallStatus { ok, invalid_arguments, unknown_tool, failed };

// "ok", "invalid_arguments", "unknown_tool", "failed".
const char* to_string(CallStatus status);

// The outcome of one call: the result on success, otherwise a plain message for the caller or model.
struct CallResult {
  CallStatus status = CallStatus::failed;
  nlohmann::json value;  // the tool's result when status == ok
  std::string error;     // why not, otherwise
  double elapsed_ms = 0;
  bool ok() const { return status == CallStatus::ok; }
  // {"status": ..., "result"|"error": ..., "elapsed_ms": ...}
  nlohmann::json to_json() const;
};

class ToolRegistry {
 public:
  ToolRegistry();
  ~ToolRegistry();
  ToolRegistry(ToolRegistry&&) noexcept;
  ToolRegistry& operator=(ToolRegistry&&) noexcept;

  // Registers a tool; throws std::invalid_argument on a bad name, a duplicate, or a malformed schema.
  void add(Tool tool);
  // The tool named `name`, or nullptr.
  const Tool* find(const std::string& name) const;
  // All tools, sorted by name.
  std::vector<const Tool*> list() const;
  // Validates `arguments` against the tool's schema, runs it, validates a declared result schema.
  // Never throws: every failure becomes a CallResult with a message.
  CallResult call(const std::string& name, const nlohmann::json& arguments) const;
  // Parses `arguments_text` as JSON first (a parse error is invalid_arguments), then call().
  CallResult call_text(const std::string& name, const std::string& arguments_text) const;
  // The tools in OpenAI function format: [{"type":"function","function":{name,description,parameters}}].
  nlohmann::json openai_tools() const;

 private:
  struct Entry;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

// One tool in OpenAI function format.
nlohmann::json to_openai_tool(const ToolSpec& spec);

}  // namespace chorus::tools
