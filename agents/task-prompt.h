#pragma once
// Prompts of task agents: the system message (role, goal, instructions, tools) and the task's user message.
#include "runtime/task-message.h"

#include <string>
#include <vector>

namespace chorus::agents {

// "You are <role>.\nYour goal: <goal>\n<instructions>" plus a sentence naming `tool_names` when there are
// any; empty parts are left out, and "" when role, goal and instructions are all empty (tools or not).
std::string render_system_prompt(const std::string& role, const std::string& goal,
                                 const std::string& instructions, const std::vector<std::string>& tool_names);

// The task as one user message: description, the context tasks' outputs, the expected output, and the JSON
// Schema the answer must match when the task declares one.
std::string render_task_prompt(const runtime::TaskRequest& request);

}  // namespace chorus::agents
