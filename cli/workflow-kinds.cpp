#include "cli/workflow-kinds.h"

#include "agents/agent-kinds.h"
#include "tools/builtin-tools.h"

#include <filesystem>

namespace chorus::cli {

std::shared_ptr<runtime::AgentKindRegistry> make_workflow_kinds(const std::string& workflow_file) {
  auto kinds = std::make_shared<runtime::AgentKindRegistry>();
  runtime::add_builtin_kinds(*kinds);
  auto tools = std::make_shared<const tools::ToolRegistry>(tools::make_builtin_registry());
  const std::string base_dir = std::filesystem::path(workflow_file).parent_path().string();
  agents::add_llm_agent_kinds(*kinds, tools, base_dir.empty() ? "." : base_dir);
  return kinds;
}

}  // namespace chorus::cli
