#include "runtime/agent-kinds.h"

#include "runtime/dispatch-agent.h"

#include "runtime/echo-agent.h"

#include <stdexcept>

namespace chorus::runtime {

void AgentKindRegistry::add(AgentKind kind) {
  std::string name = kind.name;
  if (!kinds_.emplace(name, std::move(kind)).second)
    throw std::invalid_argument("agent kind '" + name + "' is registered twice");
}

const AgentKind* AgentKindRegistry::find(const std::string& name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<const AgentKind*> AgentKindRegistry::list() const {
  std::vector<const AgentKind*> out;
  for (const auto& [name, kind] : kinds_) out.push_back(&kind);
  return out;
}

void add_builtin_kinds(AgentKindRegistry& registry) {
  AgentKind echo;
  echo.name = "echo";
  echo.description = "replies with the payload it receives (diagnostics)";
  echo.factory = [](const nlohmann::json&, const AgentId&) { return make_echo_agent(); };
  registry.add(std::move(echo));
  add_dispatch_kind(registry);
}

}  // namespace chorus::runtime
