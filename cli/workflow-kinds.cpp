#include "cli/workflow-kinds.h"

#include "agents/agent-kinds.h"
#include "tools/builtin-tools.h"

#include <filesystem>
#include <stdexcept>

namespace chorus::cli {

std::shared_ptr<runtime::AgentKindRegistry> make_workflow_kinds(const std::string& workflow_file) {
  auto kinds = std::make_shared<runtime::AgentKindRegistry>();
  runtime::add_builtin_kinds(*kinds);
  auto tools = std::make_shared<const tools::ToolRegistry>(tools::make_builtin_registry());
  const std::string base_dir = std::filesystem::path(workflow_file).parent_path().string();
  agents::add_llm_agent_kinds(*kinds, tools, base_dir.empty() ? "." : base_dir);
  return kinds;
}

std::unique_ptr<runtime::LocalRuntime> make_local_runtime(const runtime::WorkflowSpec& spec,
                                                          const runtime::AgentKindRegistry& kinds) {
  auto local = std::make_unique<runtime::LocalRuntime>();
  for (const auto& [name, agent] : spec.agents) {
    const runtime::AgentKind* kind = kinds.find(agent.kind);
    if (!kind) throw std::runtime_error("agent '" + name + "' has unknown kind '" + agent.kind + "'");
    local->register_factory(name, [factory = kind->factory, settings = agent.to_json()](const runtime::AgentId& id) {
      return factory(settings, id);
    });
  }
  return local;
}

}  // namespace chorus::cli
