#pragma once
// What every LLM agent kind shares: reading its input, its settings, journaled model calls, stop errors and
// the token tally of one message.
#include "agents/llm.h"
#include "runtime/agent-error.h"
#include "runtime/agent.h"
#include "runtime/task-message.h"

#include <nlohmann/json.hpp>

#include <string>

namespace chorus::agents {

// The user message and the task fields a kind needs, from a task request or a chat payload.
struct AgentInput {
  std::string user_message;
  nlohmann::json output_schema;  // null: free text
  long long tokens_left = 0;     // > 0: the run's remaining token budget
  std::string task;              // the task's name (messages)
};

// Reads a TaskRequest ({"description": ...}), a chat message ({"content": text}) or a string; throws
// AgentError(invalid_argument) naming `agent` otherwise.
AgentInput read_agent_input(const nlohmann::json& payload, const std::string& agent);

// Settings readers for a kind's options: absent/null gives the fallback; a wrong type or an out-of-range
// number throws std::invalid_argument "agent 'NAME': `KEY` must be ...".
std::string setting_string(const nlohmann::json& spec, const char* key, const std::string& agent,
                           const std::string& fallback = "");
int setting_int(const nlohmann::json& spec, const char* key, const std::string& agent, int fallback, int min,
                int max);
bool setting_bool(const nlohmann::json& spec, const char* key, const std::string& agent, bool fallback);

// deadline_exceeded once the handled message's deadline passed, else cancelled: "agent 'NAME': DETAIL (...)".
runtime::AgentError stopped_error(runtime::AgentContext& context, const std::string& agent,
                                  const std::string& detail);
// Throws stopped_error when the message's stop token was requested.
void check_stop(runtime::AgentContext& context, const std::string& agent);

// One model call through the run's journal under the next "llm" effect key (a resumed run reuses the recorded
// response). The request gets the message's stop token; provider errors become AgentError (unavailable when
// retryable, else failed) naming the agent and the provider.
LlmResponse call_model(LlmProvider& provider, LlmRequest& request, runtime::AgentContext& context,
                       const std::string& agent);

// Adds a response's usage to `reply` (turns, prompt/completion tokens) and throws
// AgentError(resource_exhausted) once the total passes `tokens_left` (> 0).
void charge_usage(runtime::TaskReply& reply, const LlmUsage& usage, long long tokens_left, const std::string& agent);

// A chat message with `role` and `content`.
ChatMessage chat_message(std::string role, std::string content);

}  // namespace chorus::agents
