#include "tools/tool-registry.h"

#include "tools/json-schema.h"

#include <cctype>
#include <chrono>
#include <exception>
#include <stdexcept>

namespace chorus::tools {

struct ToolRegistry::Entry {
  Tool tool;
  JsonSchema parameters;
  std::optional<JsonSchema> result;
};

const char* to_string(CallStatus status) {
  switch (status) {
    case CallStatus::ok: return "ok";
    case CallStatus::invalid_arguments: return "invalid_arguments";
    case CallStatus::unknown_tool: return "unknown_tool";
    case CallStatus::failed: return "failed";
  }
  return "failed";
}

nlohmann::json CallResult::to_json() const {
  nlohmann::json out = {{"status", to_string(status)}, {"elapsed_ms", elapsed_ms}};
  if (ok())
    out["result"] = value;
  else
    out["error"] = error;
  return out;
}

ToolRegistry::ToolRegistry() = default;
ToolRegistry::~ToolRegistry() = default;
ToolRegistry::ToolRegistry(ToolRegistry&&) noexcept = default;
ToolRegistry& ToolRegistry::operator=(ToolRegistry&&) noexcept = default;

namespace {

bool valid_tool_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

void ToolRegistry::add(Tool tool) {
  const std::string name = tool.spec.name;
  if (!valid_tool_name(name))
    throw std::invalid_argument("tool name '" + name + "' must match [A-Za-z0-9_-]{1,64}");
  if (entries_.count(name)) throw std::invalid_argument("tool '" + name + "' is already registered");
  if (!tool.handler) throw std::invalid_argument("tool '" + name + "' has no handler");
  if (!tool.spec.parameters.is_object() || tool.spec.parameters.value("type", "") != "object")
    throw std::invalid_argument("tool '" + name + "': parameters schema must be an object schema with \"type\": \"object\"");
  try {
    JsonSchema params(tool.spec.parameters);
    std::optional<JsonSchema> result;
    if (tool.spec.result_schema) result.emplace(*tool.spec.result_schema);
    entries_.emplace(name, std::make_unique<Entry>(Entry{std::move(tool), std::move(params), std::move(result)}));
  } catch (const SchemaCompileError& e) {
    throw std::invalid_argument("tool '" + name + "': invalid schema: " + e.what());
  }
}

const Tool* ToolRegistry::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second->tool;
}

std::vector<const Tool*> ToolRegistry::list() const {
  std::vector<const Tool*> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(&entry->tool);
  return out;
}

CallResult ToolRegistry::call(const std::string& name, const nlohmann::json& arguments) const {
  const auto start = std::chrono::steady_clock::now();
  CallResult result;
  auto finish = [&]() -> CallResult {
    result.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    result.status = CallStatus::unknown_tool;
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    result.error = "unknown tool '" + name + "'; available tools: " + (known.empty() ? "(none)" : known);
    return finish();
  }
  const Entry& entry = *it->second;
  if (auto errors = entry.parameters.validate(arguments); !errors.empty()) {
    result.status = CallStatus::invalid_arguments;
    result.error = "invalid arguments for tool '" + name + "': " + join_errors(errors);
    return finish();
  }
  try {
    result.value = entry.tool.handler(arguments);
  } catch (const ToolError& e) {
    result.status = CallStatus::failed;
    result.error = e.what();
    return finish();
  } catch (const std::exception& e) {
    result.status = CallStatus::failed;
    result.error = "tool '" + name + "' failed: " + e.what();
    return finish();
  } catch (...) {
    result.status = CallStatus::failed;
    result.error = "tool '" + name + "' failed with an unknown error";
    return finish();
  }
  if (entry.result) {
    if (auto errors = entry.result->validate(result.value); !errors.empty()) {
      result.status = CallStatus::failed;
      result.error = "tool '" + name + "' returned a result that breaks its own schema: " + join_errors(errors);
      result.value = nullptr;
      return finish();
    }
  }
  result.status = CallStatus::ok;
  return finish();
}

CallResult ToolRegistry::call_text(const std::string& name, const std::string& arguments_text) const {
  nlohmann::json args;
  try {
    args = nlohmann::json::parse(arguments_text);
  } catch (const nlohmann::json::parse_error& e) {
    CallResult result;
    result.status = find(name) ? CallStatus::invalid_arguments : CallStatus::unknown_tool;
    result.error = find(name) ? "arguments for tool '" + name + "' are not valid JSON: " + e.what()
                              : "unknown tool '" + name + "'";
    return result;
  }
  return call(name, args);
}

nlohmann::json to_openai_tool(const ToolSpec& spec) {
  return {{"type", "function"},
          {"function", {{"name", spec.name}, {"description", spec.description}, {"parameters", spec.parameters}}}};
}

nlohmann::json ToolRegistry::openai_tools() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, entry] : entries_) out.push_back(to_openai_tool(entry->tool.spec));
  return out;
}

}  // namespace chorus::tools
