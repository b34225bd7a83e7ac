#include "runtime/dispatch-agent.h"

#include "runtime/agent-error.h"
#include "runtime/task-message.h"

#include <cctype>
#include <sstream>
#include <stdexcept>

namespace chorus::runtime {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// The line without its list marker, or nullopt when it has none.
std::optional<std::string> without_marker(const std::string& line) {
  if (line.size() >= 2 && (line[0] == '-' || line[0] == '*') && line[1] == ' ') return trim(line.substr(2));
  size_t digits = 0;
  while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
  if (digits > 0 && digits + 1 < line.size() && (line[digits] == '.' || line[digits] == ')') &&
      line[digits + 1] == ' ')
    return trim(line.substr(digits + 2));
  return std::nullopt;
}

class DispatchAgent final : public Agent {
 public:
  explicit DispatchAgent(const nlohmann::json& spec) {
    name_ = spec.value("name", "dispatch");
    const nlohmann::json options = spec.value("options", nlohmann::json::object());
    if (!options.contains("to") || !options["to"].is_string() || options["to"].get<std::string>().empty())
      throw std::invalid_argument("agent '" + name_ +
                                  "' (kind dispatch) needs `to:`, the name of the agent that answers each "
                                  "sub-question, e.g. `to: solver`");
    to_ = options["to"].get<std::string>();
    if (to_ == name_) throw std::invalid_argument("agent '" + name_ + "': `to:` must name another agent");
    const std::string output = options.value("output", std::string("text"));
    if (output != "text" && output != "json")
      throw std::invalid_argument("agent '" + name_ + "': `output` must be text or json, got '" + output + "'");
    json_output_ = output == "json";
  }

  boost::asio::awaitable<nlohmann::json> on_message(const Message& message, AgentContext& context) override {
    TaskRequest request;
    if (message.payload.is_object() && message.payload.contains("description")) {
      try {
        request = TaskRequest::from_json(message.payload);
      } catch (const std::exception& e) {
        throw AgentError(StatusCode::invalid_argument, "agent '" + name_ + "': " + e.what());
      }
    } else if (message.payload.is_string()) {
      request.description = message.payload.get<std::string>();
    } else {
      throw AgentError(StatusCode::invalid_argument,
                       "agent '" + name_ + "': expected a task request or a text, got " + message.payload.dump().substr(0, 200));
    }
    const std::vector<std::string> questions = split_sub_questions(request.description);
    if (questions.empty())
      throw AgentError(StatusCode::invalid_argument,
                       "agent '" + name_ + "': the task has no sub-questions (write one per line, e.g. \"- What is 2+2?\")");

    TaskReply reply;
    nlohmann::json answers = nlohmann::json::array(), sub_tasks = nlohmann::json::array();
    std::string text;
    for (size_t i = 0; i < questions.size(); ++i) {
      if (context.stop_token().stop_requested())
        throw AgentError(StatusCode::cancelled, "agent '" + name_ + "': cancelled before sub-question " + std::to_string(i + 1));
      TaskRequest sub;
      sub.task = request.task + "/" + std::to_string(i + 1);
      sub.description = questions[i];
      sub.inputs = request.inputs;
      if (request.tokens_left > 0) {
        sub.tokens_left = request.tokens_left - reply.prompt_tokens - reply.completion_tokens;
        if (sub.tokens_left <= 0)
          throw AgentError(StatusCode::resource_exhausted,
                           "agent '" + name_ + "': token budget exhausted before sub-question " + std::to_string(i + 1));
      }
      const AgentId target{to_, context.self().key + "/" + std::to_string(i + 1)};
      nlohmann::json payload = sub.to_json();
      nlohmann::json raw = co_await context.send(target, std::move(payload));
      const TaskReply answer = TaskReply::from_json(raw);
      reply.prompt_tokens += answer.prompt_tokens;
      reply.completion_tokens += answer.completion_tokens;
      reply.turns += answer.turns;
      reply.tool_calls += answer.tool_calls;
      const std::string answer_text = answer.output.is_string() ? answer.output.get<std::string>() : answer.output.dump();
      answers.push_back({{"question", questions[i]}, {"answer", answer.output}});
      sub_tasks.push_back(
          {{"question", questions[i]}, {"agent", target.str()}, {"turns", answer.turns}, {"tool_calls", answer.tool_calls}});
      text.append(text.empty() ? "" : "\n").append(std::to_string(i + 1) + ". " + questions[i] + "\n   → " + answer_text);
    }
    reply.output = json_output_ ? answers : nlohmann::json(text);
    reply.details = {{"sub_tasks", sub_tasks}};
    co_return reply.to_json();
  }

 private:
  std::string name_, to_;
  bool json_output_ = false;
};

}  // namespace

std::vector<std::string> split_sub_questions(const std::string& text) {
  std::vector<std::string> marked, plain;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty()) continue;
    if (auto item = without_marker(t)) {
      if (!item->empty()) marked.push_back(*item);
    } else {
      plain.push_back(t);
    }
  }
  return marked.empty() ? plain : marked;
}

std::unique_ptr<Agent> make_dispatch_agent(const nlohmann::json& agent_spec) {
  return std::make_unique<DispatchAgent>(agent_spec);
}

void add_dispatch_kind(AgentKindRegistry& registry) {
  AgentKind kind;
  kind.name = "dispatch";
  kind.description =
      "rule-based planner (no LLM): sends each listed sub-question of its task to the agent `to:` as its own task, "
      "then joins the answers";
  kind.option_keys = {"to", "output"};
  kind.factory = [](const nlohmann::json& spec, const AgentId&) { return make_dispatch_agent(spec); };
  kind.check = [](const nlohmann::json& spec) {
    std::vector<std::string> problems;
    try {
      make_dispatch_agent(spec);
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
    return problems;
  };
  registry.add(std::move(kind));
}

}  // namespace chorus::runtime
