#pragma once
// AgentId: the address of an agent instance, written "type/key".
#include <compare>
#include <string>
#include <string_view>

namespace chorus::runtime {

struct AgentId {
  std::string type;  // the registered agent kind, e.g. "tool_user"
  std::string key;   // the instance within that kind, e.g. "default" or a session id

  // Parses "type/key" (key may contain '/'); throws std::invalid_argument naming the problem.
  static AgentId parse(std::string_view text);
  // "type/key".
  std::string str() const { return type + "/" + key; }

  auto operator<=>(const AgentId&) const = default;
};

// True when `name` is a valid agent type: [A-Za-z_][A-Za-z0-9_.-]* (a key is any non-empty printable text).
bool is_valid_agent_type(std::string_view name);

}  // namespace chorus::runtime
