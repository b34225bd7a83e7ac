#pragma once
// The "dispatch" agent kind: a rule-based planner (no LLM). It splits its task into sub-questions and sends each,
// as its own task, to another agent of the workflow (possibly on another worker), then joins the answers.
#include "runtime/agent-kinds.h"

#include <memory>
#include <string>
#include <vector>

namespace chorus::runtime {

// The sub-questions of `text`: the lines starting with a list marker ("-", "*", "1.", "1)") without the marker;
// when no line has one, every non-empty line. Surrounding blanks are trimmed.
std::vector<std::string> split_sub_questions(const std::string& text);

// Options (spec["options"]): to (required: the agent name that answers each sub-question), output (text | json,
// default text). Reply: TaskReply with output "1. Q\n   → A" lines (text) or [{question, answer}] (json), usage,
// turns and tool_calls summed over the sub-tasks, details {sub_tasks: [{question, agent, turns, tool_calls}]}.
// Throws std::invalid_argument naming the option on bad settings.
std::unique_ptr<Agent> make_dispatch_agent(const nlohmann::json& agent_spec);

// Adds the kind "dispatch" to `registry`.
void add_dispatch_kind(AgentKindRegistry& registry);

}  // namespace chorus::runtime
