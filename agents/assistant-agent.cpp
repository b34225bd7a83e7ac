#include "agents/assistant-agent.h"

#include "agents/json-answer.h"
#include "agents/model-call.h"
#include "agents/tool-runner.h"
#include "agents/task-prompt.h"
#include "runtime/agent-error.h"
#include "runtime/task-message.h"
#include "tools/json-schema.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {
namespace {

using runtime::AgentError;
using runtime::StatusCode;

class AssistantAgent final : public runtime::Agent {
 public:
  AssistantAgent(const nlohmann::json& spec, std::shared_ptr<LlmProvider> provider,
                 std::shared_ptr<const tools::ToolRegistry> tools, ToolLoopStyle style)
      : provider_(std::move(provider)), tools_(std::move(tools)), style_(style) {
    const char* kind = style_ == ToolLoopStyle::tool_user ? "tool_user" : "assistant";
    if (!spec.is_object()) throw std::invalid_argument(std::string(kind) + " agent: the settings must be an object");
    name_ = spec.value("name", kind);
    if (!provider_)
      throw std::invalid_argument("agent '" + name_ + "': no LLM provider (add an `llm:` section)");
    if (!tools_) throw std::invalid_argument("agent '" + name_ + "': no tool registry");
    std::string role = setting_string(spec, "role", name_);
    std::string goal = setting_string(spec, "goal", name_);
    std::string instructions = setting_string(spec, "instructions", name_);
    max_iter_ = setting_int(spec, "max_iter", name_, max_iter_, 1, 1000);
    tool_names_ = resolve_tool_names(spec.value("tools", nlohmann::json()), *tools_, name_);
    if (style_ == ToolLoopStyle::tool_user && tool_names_.empty())
      throw std::invalid_argument("agent '" + name_ +
                                  "' (kind tool_user) needs `tools:`, e.g. [calculator, calendar]; "
                                  "`chorus tools list` shows them");
    for (const auto& tool : tool_names_) tools_json_.push_back(tools::to_openai_tool(tools_->find(tool)->spec));
    system_prompt_ = render_system_prompt(role, goal, instructions, tool_names_);
  }

  boost::asio::awaitable<nlohmann::json> on_message(const runtime::Message& message,
                                                    runtime::AgentContext& context) override {
    co_return handle(message, context);
  }

 private:
  nlohmann::json handle(const runtime::Message& message, runtime::AgentContext& context) {
    AgentInput input = read_agent_input(message.payload, name_);
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
    if (!system_prompt_.empty()) messages.push_back(chat_message("system", system_prompt_));
    messages.push_back(chat_message("user", input.user_message));
    nlohmann::json model_calls = nlohmann::json::array(), tool_calls = nlohmann::json::array();
    auto finish = [&](runtime::TaskReply& reply) {
      reply.details = {{"model_calls", model_calls}, {"tool_calls", tool_calls}};
      return reply.to_json();
    };

    runtime::TaskReply reply;
    std::string schema_problem;  // why the last answer was refused
    for (int turn = 0; turn < max_iter_; ++turn) {
      check_stop(context, name_);
      LlmRequest request;
      request.messages = messages;
      request.tools = tools_json_;
      LlmResponse response = call_model(*provider_, request, context, name_);
      model_calls.push_back({{"turn", turn + 1},
                             {"prompt_tokens", response.usage.prompt_tokens},
                             {"completion_tokens", response.usage.completion_tokens},
                             {"ms", response.elapsed_ms},
                             {"tool_calls", response.tool_calls.size()}});
      charge_usage(reply, response.usage, input.tokens_left, name_);

      ChatMessage assistant;
      assistant.role = "assistant";
      assistant.content = response.content;
      assistant.tool_calls = response.tool_calls;
      messages.push_back(assistant);

      if (!response.tool_calls.empty()) {
        check_stop(context, name_);
        schema_problem.clear();
        std::vector<ToolCallOutcome> outcomes;
        for (auto& tool_message : run_tool_calls(response.tool_calls, tool_names_, *tools_, context, name_, &outcomes))
          messages.push_back(std::move(tool_message));
        reply.tool_calls += static_cast<int>(outcomes.size());
        for (const auto& o : outcomes)
          tool_calls.push_back({{"turn", turn + 1}, {"name", o.name}, {"status", o.status}, {"ms", o.elapsed_ms}});
        continue;
      }
      if (!schema) {
        reply.output = response.content;
        return finish(reply);
      }
      std::optional<nlohmann::json> answer = extract_json(response.content);
      if (!answer) {
        schema_problem = "the answer contains no JSON value";
      } else {
        auto errors = schema->validate(*answer);
        if (errors.empty()) {
          reply.output = std::move(*answer);
          return finish(reply);
        }
        schema_problem = tools::join_errors(errors);
      }
      messages.push_back(chat_message("user", "Your answer does not match the required JSON Schema: " +
                                                  schema_problem + ". Reply again with only the corrected JSON."));
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
  ToolLoopStyle style_;
  std::string name_;
  int max_iter_ = 10;
  std::vector<std::string> tool_names_;
  nlohmann::json tools_json_ = nlohmann::json::array();
  std::string system_prompt_;
};

}  // namespace

std::unique_ptr<runtime::Agent> make_assistant_agent(const nlohmann::json& agent_spec,
                                                     std::shared_ptr<LlmProvider> provider,
                                                     std::shared_ptr<const tools::ToolRegistry> tools,
                                                     ToolLoopStyle style) {
  return std::make_unique<AssistantAgent>(agent_spec, std::move(provider), std::move(tools), style);
}

}  // namespace chorus::agents
