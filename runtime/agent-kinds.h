#pragma once
// AgentKindRegistry: the agent kinds a workflow's `agents:` entries may name (echo here; LLM kinds in agents/).
#include "runtime/agent.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chorus::runtime {

// What a kind needs to build an agent: the workflow agent's settings (AgentSpec::to_json()) and the id.
using AgentKindFactory = std::function<std::unique_ptr<Agent>(const nlohmann::json& agent_spec, const AgentId& id)>;

struct AgentKind {
  std::string name;          // e.g. "assistant"
  std::string description;   // one line for `chorus --help` and docs
  std::vector<std::string> option_keys;  // kind-specific keys allowed under the agent (beyond the common ones)
  bool needs_llm = false;    // the agent must have an `llm:` section
  AgentKindFactory factory;
  // Optional: an agent's problems found when the workflow is validated (each says what is wrong and the fix), so a
  // typo fails `chorus workflow check` instead of the run's first step.
  std::function<std::vector<std::string>(const nlohmann::json& agent_spec)> check;
};

class AgentKindRegistry {
 public:
  // Throws std::invalid_argument on a duplicate name.
  void add(AgentKind kind);
  const AgentKind* find(const std::string& name) const;
  std::vector<const AgentKind*> list() const;  // sorted by name

 private:
  std::map<std::string, AgentKind> kinds_;
};

// The kinds every process knows: "echo" (replies with the message it received, for diagnostics) and "dispatch"
// (runtime/dispatch-agent.h).
void add_builtin_kinds(AgentKindRegistry& registry);

}  // namespace chorus::runtime
