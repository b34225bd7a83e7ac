#include "agents/formalizer-agent.h"

#include "agents/answer-extract.h"
#include "agents/json-answer.h"
#include "agents/model-call.h"
#include "runtime/agent-error.h"
#include "runtime/effect-journal.h"
#include "runtime/task-message.h"
#include "tools/json-schema.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {
namespace {

using nlohmann::json;
using runtime::AgentError;
using runtime::StatusCode;

// What stage 1 must produce (Lang2Logic's "optimization-guided formalization").
const json& structure_schema() {
  static const json schema = json::parse(R"J({
    "type": "object",
    "required": ["problem_overview", "model_type", "variables", "constraints", "objective"],
    "additionalProperties": false,
    "properties": {
      "problem_overview": {"type": "string", "minLength": 1},
      "model_type": {"type": "string", "minLength": 1},
      "variables": {
        "type": "array",
        "minItems": 1,
        "items": {
          "type": "object",
          "required": ["name", "domain", "meaning"],
          "properties": {
            "name": {"type": "string", "minLength": 1},
            "domain": {"type": "string"},
            "meaning": {"type": "string"}
          }
        }
      },
      "constraints": {"type": "array", "items": {"type": "string"}},
      "objective": {"type": "string"}
    }
  })J");
  return schema;
}

const char* kStructureSystem =
    "You formalize problems before anyone solves them. Read the problem and describe its mathematical "
    "structure "
    "as STRICT JSON: one object, no comments, no trailing commas, no text outside it.";

const char* kStructureInstructions =
    "Formalize the problem above. Reply with exactly one JSON object with these keys and nothing else:\n"
    "  \"problem_overview\": one or two sentences saying what is asked,\n"
    "  \"model_type\": the kind of model, e.g. \"linear program\", \"arithmetic\", \"combinatorics\", "
    "\"logic\",\n"
    "  \"variables\": a non-empty list of {\"name\": ..., \"domain\": ..., \"meaning\": ...} (all strings; "
    "the "
    "domain is e.g. \"non-negative integer\" or \"real\"),\n"
    "  \"constraints\": a list of strings, each one constraint written with the variable names,\n"
    "  \"objective\": a string: what to maximize, minimize or compute.\n"
    "Do not solve the problem yet.";

const char* kProgramSystem =
    "You turn a formalized problem into a Python 3 program (standard library only) that computes the answer. "
    "The program runs in a sandbox without network or input; it must print the final answer alone on its "
    "last "
    "line.";

// The last ```python (or ```py / ```python3) fenced block in `text`, else the last bare ``` block (trailing
// blank space dropped).
std::optional<std::string> python_code(const std::string& text) {
  std::optional<std::string> tagged, bare;
  size_t pos = 0;
  while ((pos = text.find("```", pos)) != std::string::npos) {
    size_t line_end = text.find('\n', pos);
    if (line_end == std::string::npos) break;
    std::string tag = text.substr(pos + 3, line_end - pos - 3);
    tag.erase(std::remove_if(tag.begin(), tag.end(), [](unsigned char c) { return std::isspace(c); }),
              tag.end());
    std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t close = text.find("```", line_end + 1);
    if (close == std::string::npos) break;
    std::string body = text.substr(line_end + 1, close - line_end - 1);
    body.erase(body.find_last_not_of(" \t\r\n") + 1);  // npos + 1 == 0: all blank
    bool has_code = !body.empty();
    if (has_code && (tag == "python" || tag == "py" || tag == "python3")) tagged = body;
    if (has_code && tag.empty()) bare = body;
    pos = close + 3;
  }
  return tagged ? tagged : bare;
}

// The last non-empty line of `text`, trimmed ("" when there is none).
std::string last_line(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text.substr(start, end - start);
    size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos) {
      size_t last = line.find_last_not_of(" \t\r");
      return line.substr(first, last - first + 1);
    }
    end = start == 0 ? 0 : start - 1;
  }
  return "";
}

// At most the last `limit` characters of `text` (tracebacks end with what matters).
std::string tail(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  return "..." + text.substr(text.size() - limit);
}

// The options, read and checked (std::invalid_argument naming the option and the fix).
struct FormalizerOptions {
  int schema_retries = 2;
  int retries = 2;
  int samples = 1;
  std::string python_tool = "python";
  AnswerFormat answer_format = AnswerFormat::text;
};

FormalizerOptions read_options(const json& spec, const std::string& name, const tools::ToolRegistry* tools) {
  const json options = spec.is_object() ? spec.value("options", json::object()) : json::object();
  if (!options.is_object()) throw std::invalid_argument("agent '" + name + "': `options` must be an object");
  FormalizerOptions o;
  o.schema_retries = setting_int(options, "schema_retries", name, o.schema_retries, 0, 5);
  o.retries = setting_int(options, "retries", name, o.retries, 0, 5);
  o.samples = setting_int(options, "samples", name, o.samples, 1, 9);
  o.python_tool = setting_string(options, "python_tool", name, o.python_tool);
  std::string format = setting_string(options, "answer_format", name, "text");
  try {
    o.answer_format = parse_answer_format(format);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("agent '" + name + "': `answer_format`: " + e.what());
  }
  if (o.python_tool.empty())
    throw std::invalid_argument("agent '" + name + "': `python_tool` must name a tool, e.g. python");
  if (tools && !tools->find(o.python_tool))
    throw std::invalid_argument("agent '" + name + "' (kind formalizer): python_tool '" + o.python_tool +
                                "' is not a registered tool; `chorus tools list` shows the available tools");
  return o;
}

// One stage-2 sample: its answer (empty when it never produced one), its model turns and the last error.
struct Sample {
  std::optional<std::string> answer;
  std::string program;
  int attempts = 0;
  std::string error;
};

class FormalizerAgent final : public runtime::Agent {
 public:
  FormalizerAgent(const json& spec, std::shared_ptr<LlmProvider> provider,
                  std::shared_ptr<const tools::ToolRegistry> tools)
      : provider_(std::move(provider)), tools_(std::move(tools)), schema_(structure_schema()) {
    if (!spec.is_object()) throw std::invalid_argument("formalizer agent: the settings must be an object");
    name_ = spec.value("name", "formalizer");
    if (!provider_)
      throw std::invalid_argument("agent '" + name_ + "': no LLM provider (add an `llm:` section)");
    if (!tools_) throw std::invalid_argument("agent '" + name_ + "': no tool registry");
    options_ = read_options(spec, name_, tools_.get());
    instructions_ = setting_string(spec, "instructions", name_);
  }

  boost::asio::awaitable<json> on_message(const runtime::Message& message,
                                          runtime::AgentContext& context) override {
    co_return handle(message, context);
  }

 private:
  json handle(const runtime::Message& message, runtime::AgentContext& context) {
    AgentInput input = read_agent_input(message.payload, name_);
    if (!input.output_schema.is_null())
      throw AgentError(StatusCode::invalid_argument,
                       "agent '" + name_ + "' (kind formalizer) answers with text, but task '" + input.task +
                           "' declares an output_schema; remove it or give the task to an assistant agent");
    runtime::TaskReply reply;
    int schema_attempts = 0;
    json structure = formalize(input, context, reply, schema_attempts);

    std::vector<Sample> samples;
    for (int k = 0; k < options_.samples; ++k) samples.push_back(solve(input, structure, k, context, reply));

    // Majority over the samples that produced an answer; a tie goes to the earliest.
    int winner = -1, best_votes = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
      if (!samples[i].answer) continue;
      int votes = 0;
      for (const auto& other : samples)
        if (other.answer && same_answer(*other.answer, *samples[i].answer)) ++votes;
      if (votes > best_votes) best_votes = votes, winner = static_cast<int>(i);
    }
    if (winner < 0) {
      const Sample& last = samples.back();
      throw AgentError(StatusCode::failed, "agent '" + name_ + "': no program produced an answer (" +
                                               std::to_string(last.attempts) +
                                               " attempt(s) per sample; last error: " + last.error +
                                               "); raise `retries` or use a stronger model");
    }

    json sample_details = json::array();
    for (const auto& s : samples) {
      json d = {{"answer", s.answer ? json(*s.answer) : json(nullptr)}, {"attempts", s.attempts}};
      if (!s.error.empty()) d["error"] = s.error;
      sample_details.push_back(std::move(d));
    }
    reply.output = *samples[static_cast<size_t>(winner)].answer;
    reply.details = {{"structure", structure},
                     {"program", samples[static_cast<size_t>(winner)].program},
                     {"samples", sample_details},
                     {"votes", best_votes},
                     {"schema_attempts", schema_attempts}};
    return reply.to_json();
  }

  bool same_answer(const std::string& a, const std::string& b) const {
    return a == b || answers_match(a, b, options_.answer_format);
  }

  std::string system_prompt(const char* base) const {
    std::string prompt = base;
    if (!instructions_.empty()) prompt.append("\n\n").append(instructions_);
    return prompt;
  }

  LlmResponse ask(std::vector<ChatMessage>& messages, runtime::AgentContext& context,
                  runtime::TaskReply& reply, long long tokens_left) {
    check_stop(context, name_);
    LlmRequest request;
    request.messages = messages;
    LlmResponse response = call_model(*provider_, request, context, name_);
    charge_usage(reply, response.usage, tokens_left, name_);
    messages.push_back(chat_message("assistant", response.content));
    return response;
  }

  // Stage 1: the structure as schema-valid JSON, re-asked with the validator's message.
  json formalize(const AgentInput& input, runtime::AgentContext& context, runtime::TaskReply& reply,
                 int& attempts) {
    std::vector<ChatMessage> messages = {
        chat_message("system", system_prompt(kStructureSystem)),
        chat_message("user", input.user_message + "\n\n" + kStructureInstructions)};
    std::string problem;
    for (int attempt = 0; attempt <= options_.schema_retries; ++attempt) {
      attempts = attempt + 1;
      LlmResponse response = ask(messages, context, reply, input.tokens_left);
      std::optional<json> answer = extract_json(response.content);
      if (!answer) {
        problem = "the reply contains no JSON object";
      } else if (auto errors = schema_.validate(*answer); !errors.empty()) {
        problem = tools::join_errors(errors);
      } else {
        return *answer;
      }
      messages.push_back(chat_message(
          "user",
          "Your formalization does not match the required JSON Schema: " + problem +
              ". Reply again with only the corrected JSON object (keys: problem_overview, model_type, "
              "variables, constraints, objective; no other keys)."));
    }
    throw AgentError(StatusCode::failed,
                     "agent '" + name_ + "': the formalization never matched the schema in " +
                         std::to_string(attempts) + " attempt(s) (last problem: " + problem +
                         "); raise `schema_retries` or use a stronger model");
  }

  // Stage 2, one sample: a program from the structure, run in the sandbox, its error fed back.
  Sample solve(const AgentInput& input, const json& structure, int index, runtime::AgentContext& context,
               runtime::TaskReply& reply) {
    std::string prompt =
        input.user_message + "\n\nFormalized structure of the problem:\n" + structure.dump(2) +
        "\n\nWrite one self-contained Python 3 program (standard library only) that solves the "
        "problem following this structure (enumerate or search when that is simplest). Put it in "
        "one ```python fenced block. It must print the final answer alone on its last line.";
    if (options_.samples > 1)
      prompt += "\n(Independent attempt " + std::to_string(index + 1) + " of " +
                std::to_string(options_.samples) + ".)";
    std::vector<ChatMessage> messages = {chat_message("system", system_prompt(kProgramSystem)),
                                         chat_message("user", prompt)};
    Sample sample;
    for (int attempt = 0; attempt <= options_.retries; ++attempt) {
      sample.attempts = attempt + 1;
      LlmResponse response = ask(messages, context, reply, input.tokens_left);
      std::optional<std::string> code = python_code(response.content);
      std::string printed;
      if (!code) {
        sample.error = "the reply contains no ```python code block";
      } else {
        sample.program = *code;
        sample.error = run_program(*code, context, reply, printed);
      }
      if (sample.error.empty()) {
        std::string line = last_line(printed);
        sample.answer = extract_answer(line, options_.answer_format).value_or(line);
        return sample;
      }
      messages.push_back(
          chat_message("user", "The program failed: " + sample.error +
                                   "\nFix it and reply with the complete corrected program in one "
                                   "```python block; it must print the answer on its last line."));
    }
    return sample;
  }

  // Runs `code` with the python tool through the run's journal; "" with `printed` set, or why it failed.
  std::string run_program(const std::string& code, runtime::AgentContext& context, runtime::TaskReply& reply,
                          std::string& printed) {
    const std::string arguments = json{{"code", code}}.dump();
    const json request = {{"name", options_.python_tool}, {"arguments_text", arguments}};
    json result = runtime::run_once(context.journal(), context.next_effect_key("tool"), "tool", request, [&] {
      check_stop(context, name_);
      return tools_->call_text(options_.python_tool, arguments).to_json();
    });
    ++reply.tool_calls;
    if (result.value("status", "failed") != "ok")
      return "the " + options_.python_tool + " tool call failed (" + result.value("status", "failed") +
             "): " + result.value("error", "no reason given");
    const json value = result.value("result", json::object());
    const std::string out = value.value("stdout", ""), err = value.value("stderr", "");
    if (value.value("timed_out", false)) return "the program ran out of time (make it faster)";
    if (int code_ = value.value("exit_code", 0); code_ != 0)
      return "the program exited with code " + std::to_string(code_) +
             (err.empty() ? std::string() : ":\n" + tail(err, 2000));
    if (last_line(out).empty())
      return "the program printed nothing; it must print the answer on its last line" +
             (err.empty() ? std::string() : " (stderr: " + tail(err, 500) + ")");
    printed = out;
    return "";
  }

  std::shared_ptr<LlmProvider> provider_;
  std::shared_ptr<const tools::ToolRegistry> tools_;
  tools::JsonSchema schema_;
  std::string name_;
  std::string instructions_;
  FormalizerOptions options_;
};

}  // namespace

std::unique_ptr<runtime::Agent> make_formalizer_agent(const nlohmann::json& agent_spec,
                                                      std::shared_ptr<LlmProvider> provider,
                                                      std::shared_ptr<const tools::ToolRegistry> tools) {
  return std::make_unique<FormalizerAgent>(agent_spec, std::move(provider), std::move(tools));
}

std::vector<std::string> formalizer_option_problems(const nlohmann::json& agent_spec,
                                                    const tools::ToolRegistry* tools) {
  std::string name = agent_spec.is_object() ? agent_spec.value("name", "formalizer") : "formalizer";
  try {
    read_options(agent_spec, name, tools);
  } catch (const std::invalid_argument& e) {
    return {e.what()};
  }
  return {};
}

}  // namespace chorus::agents
