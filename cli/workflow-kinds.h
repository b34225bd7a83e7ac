#pragma once
// The agent kinds a workflow file may use in this program: the runtime's built-in echo and the LLM
// kinds from agents/ with the built-in tools; relative paths in `llm:` resolve against the workflow's folder.
#include "runtime/agent-kinds.h"

#include <memory>
#include <string>

namespace chorus::cli {

std::shared_ptr<runtime::AgentKindRegistry> make_workflow_kinds(const std::string& workflow_file);

}  // namespace chorus::cli
