#pragma once
// Running the tool calls of one model response: allowed-name check, argument validation by the registry,
// journaling, concurrency, and the tool messages the model sees next.
#include "agents/llm.h"
#include "runtime/agent.h"
#include "tools/tool-registry.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chorus::agents {

// How one call went (for replies and statistics).
struct ToolCallOutcome {
  std::string name;
  std::string status;  // ok | invalid_arguments | failed | unknown_tool | ... (CallResult status)
  double elapsed_ms = 0;
};

// Runs `calls` (concurrently when there are several) with the tools named in `allowed`, each through the run's
// journal under the next "tool" effect keys, and returns one "tool" message per call, in order. An unknown
// tool, malformed or schema-invalid arguments and tool failures become error messages for the model (with the
// validator's message), never exceptions; a stop request before a call starts throws stopped_error.
std::vector<ChatMessage> run_tool_calls(const std::vector<LlmToolCall>& calls,
                                        const std::vector<std::string>& allowed,
                                        const tools::ToolRegistry& registry, runtime::AgentContext& context,
                                        const std::string& agent, std::vector<ToolCallOutcome>* outcomes = nullptr);

// The tool message content for a journaled CallResult JSON: the result's JSON when ok, else "Error ...".
std::string tool_message_content(const nlohmann::json& result, const std::string& tool);

// Checks tool names against the registry; throws std::invalid_argument "agent 'NAME': unknown tool 'T';
// available tools: ..." for the first unknown one. Returns the names without duplicates.
std::vector<std::string> resolve_tool_names(const nlohmann::json& names, const tools::ToolRegistry& registry,
                                            const std::string& agent);

}  // namespace chorus::agents
