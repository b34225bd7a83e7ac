#pragma once
// A tool: name, description, JSON Schema of its parameters (and optionally its result), and a handler.
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace chorus::tools {

// What a tool tells a model and a caller about itself.
struct ToolSpec {
  std::string name;                            // [A-Za-z0-9_-]{1,64}, as OpenAI function names
  std::string description;                     // one or two sentences for the model
  nlohmann::json parameters;                   // JSON Schema of the arguments object
  std::optional<nlohmann::json> result_schema; // JSON Schema of the result, when declared
};

// Runs a tool on already-validated arguments and returns its JSON result; throws ToolError on failure.
using ToolHandler = std::function<nlohmann::json(const nlohmann::json& arguments)>;

// A failure a tool reports to its caller (shown to the model as the tool's error).
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A tool ready to register.
struct Tool {
  ToolSpec spec;
  ToolHandler handler;
};

}  // namespace chorus::tools
