#include "agents/model-call.h"

#include "agents/task-prompt.h"
#include "runtime/effect-journal.h"

#include <chrono>
#include <stdexcept>

namespace chorus::agents {

using runtime::AgentError;
using runtime::StatusCode;

AgentInput read_agent_input(const nlohmann::json& payload, const std::string& agent) {
  AgentInput input;
  if (payload.is_string()) {
    input.user_message = payload.get<std::string>();
    return input;
  }
  if (payload.is_object() && payload.contains("description")) {
    runtime::TaskRequest request;
    try {
      request = runtime::TaskRequest::from_json(payload);
    } catch (const std::exception& e) {
      throw AgentError(StatusCode::invalid_argument, "agent '" + agent + "': " + e.what());
    }
    input.user_message = render_task_prompt(request);
    input.output_schema = request.output_schema;
    input.tokens_left = request.tokens_left;
    input.task = request.task;
    return input;
  }
  if (payload.is_object() && payload.contains("content") && payload["content"].is_string()) {
    input.user_message = payload["content"].get<std::string>();
    return input;
  }
  throw AgentError(StatusCode::invalid_argument,
                   "agent '" + agent +
                       "': expected a task request ({\"description\": ...}), a chat message ({\"content\": "
                       "text}) or a string, got " +
                       payload.dump().substr(0, 200));
}

std::string setting_string(const nlohmann::json& spec, const char* key, const std::string& agent,
                           const std::string& fallback) {
  if (!spec.is_object() || !spec.contains(key) || spec[key].is_null()) return fallback;
  if (!spec[key].is_string()) throw std::invalid_argument("agent '" + agent + "': `" + key + "` must be text");
  return spec[key].get<std::string>();
}

int setting_int(const nlohmann::json& spec, const char* key, const std::string& agent, int fallback, int min,
                int max) {
  if (!spec.is_object() || !spec.contains(key) || spec[key].is_null()) return fallback;
  const auto& v = spec[key];
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max)
    throw std::invalid_argument("agent '" + agent + "': `" + key + "` must be an integer from " +
                                std::to_string(min) + " to " + std::to_string(max) + ", got " + v.dump());
  return v.get<int>();
}

bool setting_bool(const nlohmann::json& spec, const char* key, const std::string& agent, bool fallback) {
  if (!spec.is_object() || !spec.contains(key) || spec[key].is_null()) return fallback;
  if (!spec[key].is_boolean())
    throw std::invalid_argument("agent '" + agent + "': `" + key + "` must be true or false, got " +
                                spec[key].dump());
  return spec[key].get<bool>();
}

AgentError stopped_error(runtime::AgentContext& context, const std::string& agent, const std::string& detail) {
  const runtime::Message& message = context.message();
  const bool late = message.has_deadline() && std::chrono::system_clock::now() >= message.deadline;
  return AgentError(late ? StatusCode::deadline_exceeded : StatusCode::cancelled,
                    "agent '" + agent + "': " + detail +
                        (late ? " (the message's deadline passed)" : " (the message was cancelled)"));
}

void check_stop(runtime::AgentContext& context, const std::string& agent) {
  if (context.stop_token().stop_requested()) throw stopped_error(context, agent, "cancelled");
}

LlmResponse call_model(LlmProvider& provider, LlmRequest& request, runtime::AgentContext& context,
                       const std::string& agent) {
  request.cancel = context.stop_token();
  std::string key = context.next_effect_key("llm");
  nlohmann::json result = runtime::run_once(context.journal(), key, "llm", to_json(request), [&] {
    try {
      return to_json(provider.complete(request));
    } catch (const LlmError& e) {
      if (context.stop_token().stop_requested())
        throw stopped_error(context, agent, "model call (" + provider.describe() + ") cancelled");
      throw AgentError(e.retryable() ? StatusCode::unavailable : StatusCode::failed,
                       "agent '" + agent + "' (" + provider.describe() + "): " + e.what());
    }
  });
  return response_from_json(result);
}

void charge_usage(runtime::TaskReply& reply, const LlmUsage& usage, long long tokens_left, const std::string& agent) {
  reply.turns += 1;
  reply.prompt_tokens += usage.prompt_tokens;
  reply.completion_tokens += usage.completion_tokens;
  long long used = reply.prompt_tokens + reply.completion_tokens;
  if (tokens_left > 0 && used > tokens_left)
    throw AgentError(StatusCode::resource_exhausted,
                     "agent '" + agent + "': token budget exhausted (" + std::to_string(used) + " tokens used, " +
                         std::to_string(tokens_left) +
                         " were left in the run); raise budgets.max_tokens or shorten the task");
}

ChatMessage chat_message(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

}  // namespace chorus::agents
