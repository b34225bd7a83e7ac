#include "agents/assistant-agent.h"

#include "agents/json-answer.h"
#include "tools/text-util.h"
#include "agents/task-prompt.h"
#include "runtime/agent-error.h"
#include "runtime/effect-journal.h"
#include "runtime/task-message.h"
#include "tools/json-schema.h"

#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {
namespace {

using runtime::AgentError;
using runtime::StatusCode;

// Serializes a journal for the concurrent tool calls of one response.
class LockedJournal final : public runtime::EffectJournal {
 public:
  explicit LockedJournal(runtime::EffectJournal& inner) : inner_(inner) {}
  std::optional<nlohmann::json> lookup(const std::string& key) override {
    std::lock_guard lock(mutex_);
    return inner_.lookup(key);
  }
  void record(const runtime::EffectRecord& record) override {
    std::lock_guard lock(mutex_);
    inner_.record(record);
  }
  bool replaying() const override { return inner_.replaying(); }

 private:
  runtime::EffectJournal& inner_;
  std::mutex mutex_;
};

std::string settings_string(const nlohmann::json& spec, const char* key, const std::string& agent) {
  if (!spec.contains(key) || spec[key].is_null()) return "";
  if (!spec[key].is_string())
    throw std::invalid_argument("agent '" + agent + "': `" + key + "` must be text");
  return spec[key].get<std::string>();
}

using tools::join;

// The user message and the task fields the loop needs, from a task request or a chat payload.
struct Input {
  std::string user_message;
  nlohmann::json output_schema;  // null: free text
  long long tokens_left = 0;
  std::string task;  // for messages
};

// What the model sees for one tool call's journaled result (CallResult::to_json()).
std::string tool_message_content(const nlohmann::json& result, const std::string& tool) {
  std::string status = result.value("status", "failed");
  if (status == "ok") return result.contains("result") ? result["result"].dump() : "null";
  std::string error = result.value("error", "the tool failed");
  if (status == "invalid_arguments")
    return "Error: invalid arguments for tool '" + tool + "': " + error +
           ". Call it again with a JSON object matching its parameters.";
  return "Error (" + status + "): " + error;
}

class AssistantAgent final : public runtime::Agent {
 public:
  AssistantAgent(const nlohmann::json& spec, std::shared_ptr<LlmProvider> provider,
                 std::shared_ptr<const tools::ToolRegistry> tools)
      : provider_(std::move(provider)), tools_(std::move(tools)) {
    if (!spec.is_object()) throw std::invalid_argument("assistant agent: the settings must be an object");
    name_ = spec.value("name", "assistant");
    if (!provider_)
      throw std::invalid_argument("agent '" + name_ + "': no LLM provider (add an `llm:` section)");
    if (!tools_) throw std::invalid_argument("agent '" + name_ + "': no tool registry");
    std::string role = settings_string(spec, "role", name_);
    std::string goal = settings_string(spec, "goal", name_);
    std::string instructions = settings_string(spec, "instructions", name_);
    if (spec.contains("max_iter")) {
      if (!spec["max_iter"].is_number_integer() || spec["max_iter"].get<long long>() < 1)
        throw std::invalid_argument("agent '" + name_ + "': `max_iter` must be an integer >= 1");
      max_iter_ = spec["max_iter"].get<int>();
    }
    if (spec.contains("tools") && !spec["tools"].is_null()) {
      if (!spec["tools"].is_array())
        throw std::invalid_argument("agent '" + name_ + "': `tools` must be a list");
      for (const auto& name : spec["tools"]) {
        if (!name.is_string()) throw std::invalid_argument("agent '" + name_ + "': each tool must be a name");
        const std::string tool = name.get<std::string>();
        const tools::Tool* found = tools_->find(tool);
        if (!found) {
          std::vector<std::string> available;
          for (const auto* t : tools_->list()) available.push_back(t->spec.name);
          throw std::invalid_argument(
              "agent '" + name_ + "': unknown tool '" + tool +
              "'; available tools: " + (available.empty() ? std::string("(none)") : join(available)));
        }
        bool seen = false;
        for (const auto& n : tool_names_) seen = seen || n == tool;
        if (seen) continue;
        tool_names_.push_back(tool);
        tools_json_.push_back(tools::to_openai_tool(found->spec));
      }
    }
    system_prompt_ = render_system_prompt(role, goal, instructions, tool_names_);
  }

  boost::asio::awaitable<nlohmann::json> on_message(const runtime::Message& message,
                                                    runtime::AgentContext& context) override {
    co_return handle(message, context);
  }

 private:
  Input read_input(const nlohmann::json& payload) const {
    Input input;
    if (payload.is_string()) {
      input.user_message = payload.get<std::string>();
      return input;
    }
    if (payload.is_object() && payload.contains("description")) {
      runtime::TaskRequest request;
      try {
        request = runtime::TaskRequest::from_json(payload);
      } catch (const std::exception& e) {
        throw AgentError(StatusCode::invalid_argument, "agent '" + name_ + "': " + e.what());
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
                     "agent '" + name_ +
                         "': expected a task request ({\"description\": ...}), a chat message ({\"content\": "
                         "text}) or a string, got " +
                         payload.dump().substr(0, 200));
  }

  // The error for a stop request: deadline_exceeded once the message's deadline passed, else cancelled.
  AgentError stopped_error(runtime::AgentContext& context, const std::string& detail) const {
    const runtime::Message& message = context.message();
    const bool late = message.has_deadline() && std::chrono::system_clock::now() >= message.deadline;
    return AgentError(late ? StatusCode::deadline_exceeded : StatusCode::cancelled,
                      "agent '" + name_ + "': " + detail +
                          (late ? " (the message's deadline passed)" : " (the message was cancelled)"));
  }

  void check_stop(runtime::AgentContext& context) const {
    if (context.stop_token().stop_requested()) throw stopped_error(context, "cancelled");
  }

  // One model call, journaled; the provider gives up when the message's stop token is requested (then nothing
  // is journaled for the call).
  LlmResponse call_model(LlmRequest& request, runtime::AgentContext& context) {
    request.cancel = context.stop_token();
    std::string key = context.next_effect_key("llm");
    nlohmann::json result = runtime::run_once(context.journal(), key, "llm", to_json(request), [&] {
      try {
        return to_json(provider_->complete(request));
      } catch (const LlmError& e) {
        if (context.stop_token().stop_requested())
          throw stopped_error(context, "model call (" + provider_->describe() + ") cancelled");
        throw AgentError(e.retryable() ? StatusCode::unavailable : StatusCode::failed,
                         "agent '" + name_ + "' (" + provider_->describe() + "): " + e.what());
      }
    });
    return response_from_json(result);
  }

  // Runs the calls of one response (concurrently when there are several) and returns one tool message each.
  std::vector<ChatMessage> run_tools(const std::vector<LlmToolCall>& calls, runtime::AgentContext& context) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < calls.size(); ++i) keys.push_back(context.next_effect_key("tool"));
    std::optional<LockedJournal> locked;
    if (context.journal()) locked.emplace(*context.journal());
    runtime::EffectJournal* journal = locked ? &*locked : nullptr;

    auto run_one = [&](size_t i) -> std::string {
      const LlmToolCall& call = calls[i];
      bool allowed = false;
      for (const auto& n : tool_names_) allowed = allowed || n == call.name;
      if (!allowed)
        return "Error: unknown tool '" + call.name + "'; available tools: " +
               (tool_names_.empty() ? std::string("none (answer without tools)") : join(tool_names_));
      nlohmann::json request{{"name", call.name}, {"arguments_text", call.arguments_text}};
      nlohmann::json result = runtime::run_once(journal, keys[i], "tool", request, [&] {
        check_stop(context);  // a running tool is not interrupted, but none starts after a stop request
        return tools_->call_text(call.name, call.arguments_text).to_json();
      });
      return tool_message_content(result, call.name);
    };

    std::vector<std::string> contents(calls.size());
    if (calls.size() == 1) {
      contents[0] = run_one(0);
    } else {
      std::vector<std::future<std::string>> running;
      for (size_t i = 0; i < calls.size(); ++i) running.push_back(std::async(std::launch::async, run_one, i));
      std::exception_ptr first_error;
      for (size_t i = 0; i < running.size(); ++i) {
        try {
          contents[i] = running[i].get();
        } catch (...) {
          if (!first_error) first_error = std::current_exception();
        }
      }
      if (first_error) std::rethrow_exception(first_error);
    }
    std::vector<ChatMessage> messages;
    for (size_t i = 0; i < calls.size(); ++i) {
      ChatMessage m;
      m.role = "tool";
      m.content = std::move(contents[i]);
      m.tool_call_id = calls[i].id;
      m.name = calls[i].name;
      messages.push_back(std::move(m));
    }
    return messages;
  }

  nlohmann::json handle(const runtime::Message& message, runtime::AgentContext& context) {
    Input input = read_input(message.payload);
    std::optional<tools::JsonSchema> schema;
    if (!input.output_schema.is_null()) {
      try {
        schema.emplace(input.output_schema);
      } catch (const std::exception& e) {
        throw AgentError(StatusCode::invalid_argument, "agent '" + name_ + "': task '" + input.task +
                                                           "' has an invalid output_schema: " + e.what());
      }
    }

    std::vector<ChatMessage> messages;
    if (!system_prompt_.empty()) {
      ChatMessage system;
      system.role = "system";
      system.content = system_prompt_;
      messages.push_back(std::move(system));
    }
    ChatMessage user;
    user.role = "user";
    user.content = input.user_message;
    messages.push_back(std::move(user));

    runtime::TaskReply reply;
    std::string schema_problem;  // why the last answer was refused
    for (int turn = 0; turn < max_iter_; ++turn) {
      check_stop(context);
      LlmRequest request;
      request.messages = messages;
      request.tools = tools_json_;
      LlmResponse response = call_model(request, context);
      reply.turns += 1;
      reply.prompt_tokens += response.usage.prompt_tokens;
      reply.completion_tokens += response.usage.completion_tokens;
      long long used = reply.prompt_tokens + reply.completion_tokens;
      if (input.tokens_left > 0 && used > input.tokens_left)
        throw AgentError(StatusCode::resource_exhausted,
                         "agent '" + name_ + "': token budget exhausted (" + std::to_string(used) +
                             " tokens used, " + std::to_string(input.tokens_left) +
                             " were left in the run); raise budgets.max_tokens or shorten the task");

      ChatMessage assistant;
      assistant.role = "assistant";
      assistant.content = response.content;
      assistant.tool_calls = response.tool_calls;
      messages.push_back(assistant);

      if (!response.tool_calls.empty()) {
        check_stop(context);
        schema_problem.clear();
        for (auto& tool_message : run_tools(response.tool_calls, context))
          messages.push_back(std::move(tool_message));
        continue;
      }
      if (!schema) {
        reply.output = response.content;
        return reply.to_json();
      }
      std::optional<nlohmann::json> answer = extract_json(response.content);
      if (!answer) {
        schema_problem = "the answer contains no JSON value";
      } else {
        auto errors = schema->validate(*answer);
        if (errors.empty()) {
          reply.output = std::move(*answer);
          return reply.to_json();
        }
        schema_problem = tools::join_errors(errors);
      }
      ChatMessage retry;
      retry.role = "user";
      retry.content = "Your answer does not match the required JSON Schema: " + schema_problem +
                      ". Reply again with only the corrected JSON.";
      messages.push_back(std::move(retry));
    }
    std::string why = schema_problem.empty()
                          ? "with tool calls still coming"
                          : "without an answer matching output_schema (last problem: " + schema_problem + ")";
    throw AgentError(StatusCode::resource_exhausted, "agent '" + name_ + "': max_iter " +
                                                         std::to_string(max_iter_) + " reached " + why +
                                                         "; raise max_iter or simplify the task");
  }

  std::shared_ptr<LlmProvider> provider_;
  std::shared_ptr<const tools::ToolRegistry> tools_;
  std::string name_;
  int max_iter_ = 10;
  std::vector<std::string> tool_names_;
  nlohmann::json tools_json_ = nlohmann::json::array();
  std::string system_prompt_;
};

}  // namespace

std::unique_ptr<runtime::Agent> make_assistant_agent(const nlohmann::json& agent_spec,
                                                     std::shared_ptr<LlmProvider> provider,
                                                     std::shared_ptr<const tools::ToolRegistry> tools) {
  return std::make_unique<AssistantAgent>(agent_spec, std::move(provider), std::move(tools));
}

}  // namespace chorus::agents
