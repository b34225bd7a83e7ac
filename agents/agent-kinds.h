#pragma once
// The agent kinds built on LLMs ("assistant"; later: tool_user, inot, ...) for a workflow's `agents:`
// entries.
#include "runtime/agent-kinds.h"
#include "tools/tool-registry.h"

#include <memory>
#include <string>

namespace chorus::agents {

// Registers the LLM agent kinds. `tools` is the registry every agent picks its tools from; `base_dir`
// resolves relative paths in `llm:` settings (the workflow file's folder).
void add_llm_agent_kinds(runtime::AgentKindRegistry& registry,
                         std::shared_ptr<const tools::ToolRegistry> tools, std::string base_dir);

}  // namespace chorus::agents
