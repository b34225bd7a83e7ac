#include "agents/reasoning-agents.h"

#include "agents/answer-extract.h"
#include "agents/model-call.h"
#include "agents/task-prompt.h"
#include "runtime/agent-error.h"
#include "runtime/task-message.h"

#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {
namespace {

using nlohmann::json;
using runtime::AgentError;
using runtime::StatusCode;

// What the final answer should look like, for the prompts.
std::string answer_shape(AnswerFormat format) {
  switch (format) {
    case AnswerFormat::number:
      return "a single number (digits only, no units)";
    case AnswerFormat::letter:
      return "a single option letter (A, B, C, ...)";
    case AnswerFormat::text:
      break;
  }
  return "a short answer (a word, phrase or sentence)";
}

// The options of a kind's agent: spec["options"] (an object, or absent).
const json& options_of(const json& spec, const std::string& agent) {
  static const json empty = json::object();
  if (!spec.contains("options") || spec["options"].is_null()) return empty;
  if (!spec["options"].is_object())
    throw std::invalid_argument("agent '" + agent + "': `options` must be a mapping");
  return spec["options"];
}

AnswerFormat read_answer_format(const json& options, const std::string& agent) {
  const std::string name = setting_string(options, "answer_format", agent, "text");
  try {
    return parse_answer_format(name);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("agent '" + agent + "': " + e.what());
  }
}

std::string agent_name(const json& spec, const char* kind) {
  if (!spec.is_object())
    throw std::invalid_argument(std::string(kind) + " agent: the settings must be an object");
  std::string name = spec.value("name", "");
  return name.empty() ? kind : name;
}

// The INoT program (our own wording of the paper's PromptCode structure): two virtual agents answer
// independently, then critique, rebut and adjust for up to MAX_ROUNDS rounds, stopping on agreement;
// Agent_A's answer is output.
std::string inot_prompt_code(int max_rounds, AnswerFormat format) {
  std::string code =
      R"J(Run the program below in your head, exactly as written, and write down what every step produces.
Do not skip steps: the reasoning of each virtual agent must be visible.

<PromptCode>
  <Definitions>
    <Agent name="Agent_A">A careful, independent solver. It works from the problem alone and keeps
      its answer unless an argument really shows it is wrong.</Agent>
    <Agent name="Agent_B">A second independent solver with the same skills. It does not look at
      Agent_A's work before it has its own answer.</Agent>
    <Constant name="MAX_ROUNDS">)J";
  code += std::to_string(max_rounds);
  code += R"J(</Constant>
    <Constant name="ANSWER_SHAPE">)J";
  code += answer_shape(format);
  code += R"J(</Constant>
  </Definitions>
  <Program>
    <Step id="1">Agent_A.reasoning, Agent_A.answer = Agent_A.solve(problem)
      # written inside <Agent_A>...</Agent_A></Step>
    <Step id="2">Agent_B.reasoning, Agent_B.answer = Agent_B.solve(problem)
      # written inside <Agent_B>...</Agent_B></Step>
    <Loop variable="n" from="1" to="MAX_ROUNDS">
      <Check>if Agent_A.answer agrees with Agent_B.answer: leave the loop</Check>
      <Step>write the round inside <round n="{n}">...</round>, containing:</Step>
      <Step>A_on_B = Agent_A.critique(Agent_B.reasoning)   # point out concrete errors or gaps</Step>
      <Step>B_on_A = Agent_B.critique(Agent_A.reasoning)</Step>
      <Step>Agent_A.rebut(B_on_A); Agent_A.answer = Agent_A.adjust(A_on_B, B_on_A)
        # accept the valid points, defend the rest</Step>
      <Step>Agent_B.rebut(A_on_B); Agent_B.answer = Agent_B.adjust(B_on_A, A_on_B)</Step>
    </Loop>
    <Output>print("<final_answer>" + Agent_A.answer + "</final_answer>")
      # ANSWER_SHAPE, nothing else inside the tag</Output>
  </Program>
  <Rules>
    <Rule>Each round goes in its own <round n="N"> tag, numbered from 1; at most MAX_ROUNDS rounds.</Rule>
    <Rule>The reply ends with exactly one <final_answer>...</final_answer> with Agent_A's answer.</Rule>
  </Rules>
</PromptCode>)J";
  return code;
}

std::string cot_prompt(AnswerFormat format) {
  return "Think step by step: write out your reasoning before you answer, checking each step. Then end your "
         "reply "
         "with the final answer inside <final_answer>...</final_answer>: " +
         answer_shape(format) + ", nothing else inside the tag.";
}

// The system prompt: the agent's role, goal and instructions, then the method's own text.
std::string system_prompt(const json& spec, const std::string& agent, const std::string& method) {
  std::string persona =
      render_system_prompt(setting_string(spec, "role", agent), setting_string(spec, "goal", agent),
                           setting_string(spec, "instructions", agent), {});
  if (persona.empty()) return method;
  return persona + "\n\n" + method;
}

// Number of <round ...> tags in the text (the critique rounds the model wrote out).
int count_rounds(const std::string& text) {
  static const std::regex round_tag(R"(<round[\s>])", std::regex::icase);
  return static_cast<int>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), round_tag), std::sregex_iterator()));
}

// The options of an inot or cot agent (max_rounds: inot only).
struct ReasonerOptions {
  AnswerFormat format = AnswerFormat::text;
  int max_rounds = 0;
};

ReasonerOptions read_reasoner_options(const json& spec, const std::string& kind) {
  const std::string name = agent_name(spec, kind.c_str());
  const json& options = options_of(spec, name);
  ReasonerOptions read;
  read.format = read_answer_format(options, name);
  if (kind == "inot") read.max_rounds = setting_int(options, "max_rounds", name, 10, 1, 50);
  return read;
}

// The options of a debate moderator.
struct DebateOptions {
  std::vector<std::string> debaters;
  int rounds = 2;
  AnswerFormat format = AnswerFormat::text;
};

DebateOptions read_debate_options(const json& spec) {
  const std::string name = agent_name(spec, "debate");
  const json& options = options_of(spec, name);
  const std::string where = "agent '" + name + "' (kind debate): ";
  const std::string fix = "; write e.g. `debaters: [solver_a, solver_b]` (two other agents of this workflow)";
  if (!options.contains("debaters") || !options["debaters"].is_array())
    throw std::invalid_argument(where + "`debaters` must be a list of two agent names" + fix);
  const json& list = options["debaters"];
  if (list.size() != 2)
    throw std::invalid_argument(where + "`debaters` must name exactly two agents, got " +
                                std::to_string(list.size()) + fix);
  DebateOptions read;
  for (const auto& item : list) {
    if (!item.is_string() || !runtime::is_valid_agent_type(item.get<std::string>()))
      throw std::invalid_argument(where + "`debaters` entry " + item.dump() + " is not an agent name" + fix);
    if (item.get<std::string>() == name)
      throw std::invalid_argument(where + "`debaters` names the moderator itself" + fix);
    read.debaters.push_back(item.get<std::string>());
  }
  if (read.debaters[0] == read.debaters[1])
    throw std::invalid_argument(where + "the two `debaters` must be different agents, got '" +
                                read.debaters[0] + "' twice" + fix);
  read.rounds = setting_int(options, "rounds", name, 2, 1, 10);
  read.format = read_answer_format(options, name);
  return read;
}

// One call reasoning kind (inot, cot): the system prompt, the question, the extracted answer.
class SingleCallReasoner final : public runtime::Agent {
 public:
  SingleCallReasoner(const json& spec, std::shared_ptr<LlmProvider> provider, const char* kind)
      : provider_(std::move(provider)), kind_(kind), name_(agent_name(spec, kind)) {
    if (!provider_)
      throw std::invalid_argument("agent '" + name_ + "': no LLM provider (add an `llm:` section)");
    const ReasonerOptions options = read_reasoner_options(spec, kind);
    format_ = options.format;
    max_rounds_ = options.max_rounds;
    system_prompt_ = system_prompt(
        spec, name_, kind_ == "inot" ? inot_prompt_code(max_rounds_, format_) : cot_prompt(format_));
  }

  boost::asio::awaitable<json> on_message(const runtime::Message& message,
                                          runtime::AgentContext& context) override {
    co_return handle(message, context);
  }

 private:
  json handle(const runtime::Message& message, runtime::AgentContext& context) {
    AgentInput input = read_agent_input(message.payload, name_);
    check_stop(context, name_);
    LlmRequest request;
    request.messages = {chat_message("system", system_prompt_), chat_message("user", input.user_message)};
    LlmResponse response = call_model(*provider_, request, context, name_);
    runtime::TaskReply reply;
    charge_usage(reply, response.usage, input.tokens_left, name_);

    std::optional<std::string> answer = extract_answer(response.content, format_);
    reply.output = answer ? *answer : response.content;
    reply.details = {{"raw", response.content},
                     {"extracted", answer.has_value()},
                     {"prompt_tokens", response.usage.prompt_tokens},
                     {"completion_tokens", response.usage.completion_tokens}};
    if (kind_ == "inot") {
      reply.details["max_rounds"] = max_rounds_;
      reply.details["rounds_seen"] = count_rounds(response.content);
    }
    return reply.to_json();
  }

  std::shared_ptr<LlmProvider> provider_;
  std::string kind_;
  std::string name_;
  AnswerFormat format_ = AnswerFormat::text;
  int max_rounds_ = 0;
  std::string system_prompt_;
};

// A reply's output as text.
std::string output_text(const json& output) {
  if (output.is_string()) return output.get<std::string>();
  return output.dump();
}

// The external debate moderator: exchanges the two debaters' answers over runtime messages.
class DebateModerator final : public runtime::Agent {
 public:
  explicit DebateModerator(const json& spec) : name_(agent_name(spec, "debate")) {
    DebateOptions options = read_debate_options(spec);
    debaters_ = std::move(options.debaters);
    rounds_ = options.rounds;
    format_ = options.format;
  }

  boost::asio::awaitable<json> on_message(const runtime::Message& message,
                                          runtime::AgentContext& context) override {
    const AgentInput input = read_agent_input(message.payload, name_);
    runtime::TaskReply total;
    json transcript = json::array();
    std::vector<std::string> latest(2);                  // each debater's latest reply text
    std::vector<std::optional<std::string>> answers(2);  // ... and the answer extracted from it
    const std::string instance = context.self().key + "/debate";
    int rounds_run = 0;
    bool agreed = false;

    for (int round = 0; round <= rounds_; ++round) {
      check_stop(context, name_);
      // Both prompts of a round are built from the previous round's answers, so neither sees the other's new
      // one.
      std::vector<std::string> prompts(2);
      for (int i = 0; i < 2; ++i)
        prompts[i] = round == 0 ? opening_prompt(input.user_message)
                                : round_prompt(input.user_message, round, latest[i], latest[1 - i]);
      for (int i = 0; i < 2; ++i) {
        runtime::TaskRequest request;
        request.task = (input.task.empty() ? name_ : input.task) + "/debate";
        request.description = prompts[i];
        if (input.tokens_left > 0) {
          request.tokens_left = input.tokens_left - (total.prompt_tokens + total.completion_tokens);
          if (request.tokens_left <= 0) throw budget_error(input.tokens_left, total);
        }
        const runtime::AgentId to{debaters_[i], instance};
        json payload = request.to_json();
        runtime::SendOptions options;
        json raw;
        try {
          raw = co_await context.send(to, payload, options);
        } catch (const AgentError& e) {
          throw AgentError(e.code(), "agent '" + name_ + "': debater '" + debaters_[i] +
                                         "' failed in round " + std::to_string(round) + ": " + e.what());
        }
        runtime::TaskReply reply = runtime::TaskReply::from_json(raw);
        total.prompt_tokens += reply.prompt_tokens;
        total.completion_tokens += reply.completion_tokens;
        total.turns += reply.turns;
        total.tool_calls += reply.tool_calls;
        if (input.tokens_left > 0 && total.prompt_tokens + total.completion_tokens > input.tokens_left)
          throw budget_error(input.tokens_left, total);
        latest[i] = output_text(reply.output);
        answers[i] = extract_answer(latest[i], format_);
        transcript.push_back({{"round", round},
                              {"debater", debaters_[i]},
                              {"text", latest[i]},
                              {"answer", answers[i] ? json(*answers[i]) : json(nullptr)},
                              {"prompt_tokens", reply.prompt_tokens},
                              {"completion_tokens", reply.completion_tokens}});
      }
      rounds_run = round;
      agreed = answers[0] && answers[1] && answers_match(*answers[0], *answers[1], format_);
      if (agreed) break;
    }

    total.output = answers[0] ? json(*answers[0]) : json(latest[0]);
    total.details = {{"rounds", rounds_run},
                     {"max_rounds", rounds_},
                     {"agreed", agreed},
                     {"extracted", answers[0].has_value()},
                     {"debaters", debaters_},
                     {"transcript", std::move(transcript)},
                     {"prompt_tokens", total.prompt_tokens},
                     {"completion_tokens", total.completion_tokens}};
    co_return total.to_json();
  }

 private:
  std::string opening_prompt(const std::string& question) const {
    return question +
           "\n\nSolve this on your own. Reason step by step, then give your final answer inside "
           "<final_answer>...</final_answer>: " +
           answer_shape(format_) + ".";
  }

  std::string round_prompt(const std::string& question, int round, const std::string& own,
                           const std::string& other) const {
    return "Debate round " + std::to_string(round) + " of " + std::to_string(rounds_) +
           ".\n\nThe problem:\n" + question + "\n\nYour previous answer:\n" + own +
           "\n\nThe other debater's latest answer:\n" + other +
           "\n\nCritique the other debater's reasoning (concrete errors or gaps), rebut any criticism of "
           "yours that "
           "is wrong, accept what is right, and give your adjusted final answer inside "
           "<final_answer>...</final_answer>: " +
           answer_shape(format_) + ".";
  }

  AgentError budget_error(long long tokens_left, const runtime::TaskReply& total) const {
    return AgentError(StatusCode::resource_exhausted,
                      "agent '" + name_ + "': token budget exhausted (the debaters used " +
                          std::to_string(total.prompt_tokens + total.completion_tokens) + " tokens, " +
                          std::to_string(tokens_left) +
                          " were left in the run); raise budgets.max_tokens or lower `rounds`");
  }

  std::string name_;
  std::vector<std::string> debaters_;
  int rounds_ = 2;
  AnswerFormat format_ = AnswerFormat::text;
};

}  // namespace

std::unique_ptr<runtime::Agent> make_inot_agent(const nlohmann::json& agent_spec,
                                                std::shared_ptr<LlmProvider> provider) {
  return std::make_unique<SingleCallReasoner>(agent_spec, std::move(provider), "inot");
}

std::unique_ptr<runtime::Agent> make_cot_agent(const nlohmann::json& agent_spec,
                                               std::shared_ptr<LlmProvider> provider) {
  return std::make_unique<SingleCallReasoner>(agent_spec, std::move(provider), "cot");
}

std::unique_ptr<runtime::Agent> make_debate_agent(const nlohmann::json& agent_spec) {
  return std::make_unique<DebateModerator>(agent_spec);
}

std::vector<std::string> reasoning_option_problems(const std::string& kind,
                                                   const nlohmann::json& agent_spec) {
  try {
    if (kind == "debate")
      read_debate_options(agent_spec);
    else
      read_reasoner_options(agent_spec, kind);
  } catch (const std::invalid_argument& e) {
    // The workflow check names the agent already: drop "agent 'NAME' (kind K): ".
    std::string problem = e.what();
    if (problem.rfind("agent '", 0) == 0) {
      const auto end = problem.find(": ");
      if (end != std::string::npos) problem.erase(0, end + 2);
    }
    return {problem};
  }
  return {};
}

}  // namespace chorus::agents
