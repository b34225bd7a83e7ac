#pragma once
// The "assistant" agent kind: the basic LLM + tools loop that workflow tasks run on. Every model call and
// tool call goes through the run's effect journal, so a resumed run never repeats one.
//
// Input: a TaskRequest payload (rendered as the user message) or a chat payload ({"content": text} or a JSON
// string). Reply: TaskReply JSON {output, usage, turns}. With the task's output_schema, the answer's JSON is
// validated and the model is asked again (within max_iter) until it matches. The message's stop token
// (deadline, cancel) is passed to every model call and checked before each tool call; a call cut short by it
// fails the message (deadline_exceeded or cancelled) and is not journaled.
#include "agents/llm.h"
#include "runtime/agent.h"
#include "tools/tool-registry.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace chorus::agents {

// assistant: tools optional. tool_user (Athena, arXiv 2507.08034): at least one tool (no tools is a settings error).
// Both reply with details {model_calls: [{turn, prompt_tokens, completion_tokens, ms, tool_calls}],
// tool_calls: [{turn, name, status, ms}]}.
enum class ToolLoopStyle { assistant, tool_user };

// Builds an assistant from a workflow agent's settings (AgentSpec::to_json(): name, role, goal, instructions,
// tools, max_iter), the provider it calls, and the shared tool registry. Throws std::invalid_argument on bad
// settings or a tool the registry does not have (naming it and the available tools).
std::unique_ptr<runtime::Agent> make_assistant_agent(const nlohmann::json& agent_spec,
                                                     std::shared_ptr<LlmProvider> provider,
                                                     std::shared_ptr<const tools::ToolRegistry> tools,
                                                     ToolLoopStyle style = ToolLoopStyle::assistant);

}  // namespace chorus::agents
