#pragma once
// The agent kinds a workflow file may use in this program: the runtime's built-in echo and the LLM
// kinds from agents/ with the built-in tools; relative paths in `llm:` resolve against the workflow's folder.
#include "runtime/agent-kinds.h"
#include "runtime/local-runtime.h"
#include "runtime/workflow-spec.h"

#include <memory>
#include <string>

namespace chorus::cli {

std::shared_ptr<runtime::AgentKindRegistry> make_workflow_kinds(const std::string& workflow_file);

// An in-process runtime hosting every agent of `spec` through its kind's factory (`chorus run`, `chorus eval`).
std::unique_ptr<runtime::LocalRuntime> make_local_runtime(const runtime::WorkflowSpec& spec,
                                                          const runtime::AgentKindRegistry& kinds);

}  // namespace chorus::cli
