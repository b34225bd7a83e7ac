#include "cli/model-quality.h"

#include "agents/llm.h"
#include "agents/local-provider.h"
#include "cli/answer-values.h"
#include "inference/tokenizer.h"
#include "tools/builtin-tools.h"
#include "tools/tool-registry.h"
#include "training/curriculum.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <regex>
#include <stdexcept>

namespace chorus::cli {
namespace {

using json = nlohmann::json;

std::string pct(int64_t n, int64_t d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", d > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(d) : 0.0);
  return buf;
}

struct Reference {
  std::vector<json> prefix;                   // the messages before the first assistant turn
  std::vector<std::pair<std::string, json>> calls;  // name, arguments
  std::vector<json> results;
  std::string answer;                         // the last assistant message's content
};

Reference split_conversation(const training::Conversation& c) {
  Reference r;
  bool in_prefix = true;
  for (const auto& m : c.messages) {
    const json message = json::parse(m.dump());
    const std::string role = message.value("role", "");
    if (role == "assistant") {
      if (in_prefix && message.contains("tool_calls"))
        for (const auto& call : message["tool_calls"])
          r.calls.emplace_back(call["function"]["name"].get<std::string>(), call["function"]["arguments"]);
      in_prefix = false;
      if (message.contains("content") && message["content"].is_string()) r.answer = message["content"];
    } else if (in_prefix) {
      r.prefix.push_back(message);
    } else if (role == "tool") {
      r.results.push_back(json::parse(message["content"].get<std::string>()));
    }
  }
  return r;
}

std::string user_text(const Reference& r) {
  for (const auto& m : r.prefix)
    if (m.value("role", "") == "user") return m.value("content", "");
  return "";
}

// Records a miss unless `limit` misses of this kind are recorded already; `task` is the curriculum task.
void note_failure(QualityReport& report, int64_t limit, const std::string& kind, const std::string& task,
                  const std::string& question, const json& expected, const json& got) {
  int64_t same = 0;
  for (const auto& f : report.failures) same += f.value("kind", "") == kind;
  if (same >= limit) return;
  auto shorten = [](const json& v) { return v.is_string() ? json(v.get<std::string>().substr(0, 240)) : v; };
  report.failures.push_back({{"kind", kind},
                             {"task", task},
                             {"question", question.substr(0, 240)},
                             {"expected", shorten(expected)},
                             {"got", shorten(got)}});
}

training::CurriculumSplit curriculum_split(const std::string& questions) {
  if (questions == "held-out") return training::CurriculumSplit::eval_known_words;
  if (questions == "unseen-words") return training::CurriculumSplit::eval;
  if (questions == "train") return training::CurriculumSplit::train;
  std::string names;
  for (const auto& name : quality_question_sets()) names += (names.empty() ? "" : ", ") + name;
  throw std::invalid_argument("unknown question set '" + questions + "'; use one of " + names);
}

}  // namespace

const std::vector<std::string>& quality_question_sets() {
  static const std::vector<std::string> sets = {"held-out", "unseen-words", "train"};
  return sets;
}

json QualityReport::to_json() const {
  // null, not 0, for a rate of no examples (--tool-examples 0, --passkey-examples 0)
  auto rate = [](int64_t n, int64_t d) {
    return d > 0 ? json(static_cast<double>(n) / static_cast<double>(d)) : json();
  };
  json j = {{"split", split},
            {"tool_examples", tool_total},
            {"format_valid", rate(format_ok, tool_total)},
            {"right_call", rate(call_ok, tool_total)},
            {"exact_arguments", rate(exact_args, tool_total)},
            {"answer_states_result", rate(answer_ok, tool_total)},
            {"seconds", seconds},
            {"kv", kv},
            {"constrained_tool_calls", constrained},
            {"failures", failures}};
  json keys = json::array();
  for (const auto& p : passkey)
    keys.push_back({{"length", p.length}, {"examples", p.total}, {"accuracy", rate(p.correct, p.total)}});
  j["passkey"] = keys;
  return j;
}

std::string QualityReport::markdown() const {
  const std::string label = split == "held-out"       ? "held-out phrasings and numbers"
                            : split == "unseen-words" ? "held-out, with unseen operation words"
                            : split == "train"        ? "train split, a diagnostic"
                                                      : split;
  std::string out = "| metric (" + label + (constrained ? "" : "; unconstrained tool calls") +
                    ") | result |\n| --- | ---: |\n";
  const std::string kv_label = kv.is_null() ? "full cache" : "KV " + kv.dump();
  if (tool_total > 0) {  // rows only for what was measured
    out += "| valid tool-call format | " + pct(format_ok, tool_total) + " (" + std::to_string(format_ok) + "/" +
           std::to_string(tool_total) + ") |\n";
    out += "| right tool and arguments (same tool result) | " + pct(call_ok, tool_total) + " |\n";
    out += "| arguments identical to the reference | " + pct(exact_args, tool_total) + " |\n";
    out += "| final answer states the tool result | " + pct(answer_ok, tool_total) + " |\n";
  }
  for (const auto& p : passkey)
    if (p.total > 0)
      out += "| passkey at " + std::to_string(p.length) + " tokens (" + kv_label + ") | " + pct(p.correct, p.total) +
             " (" + std::to_string(p.correct) + "/" + std::to_string(p.total) + ") |\n";
  return out;
}

QualityReport evaluate_model_quality(const QualityOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::filesystem::path dir(options.model_dir);
  if (!std::filesystem::exists(dir / "tokenizer.json"))
    throw std::runtime_error("--model " + options.model_dir + ": no tokenizer.json there (a model directory needs "
                             "config.json, model.safetensors, tokenizer.json)");
  auto registry = std::make_shared<tools::ToolRegistry>(tools::make_builtin_registry());
  nlohmann::ordered_json offered = nlohmann::ordered_json::array();
  for (const char* name : {"calculator", "calendar"})
    offered.push_back(nlohmann::ordered_json::parse(tools::to_openai_tool(registry->find(name)->spec).dump()));
  training::ToolCaller caller = [registry](const std::string& name, const json& args) {
    const tools::CallResult r = registry->call(name, args);
    if (!r.ok()) throw std::runtime_error("tool " + name + " " + args.dump() + ": " + r.error);
    return r.value;
  };
  // The result of a call the model made, or null when the tool refuses it.
  auto try_call = [&](const std::string& name, const std::string& arguments_text) -> json {
    const tools::CallResult r = registry->call_text(name, arguments_text);
    return r.ok() ? r.value : json();
  };
  json settings = {{"provider", "local"},  {"model", std::filesystem::absolute(dir).string()},
                   {"temperature", 0},     {"max_tokens", 160},
                   {"device", options.device}, {"constrain_tool_calls", options.constrain_tool_calls}};
  if (!options.kv.is_null()) settings["kv"] = options.kv;
  std::unique_ptr<agents::LlmProvider> provider =
      agents::make_local_provider(settings, std::filesystem::absolute(dir).string());
  auto say = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };

  QualityReport report;
  const int64_t limit = options.failures_per_kind;  // misses kept per kind
  report.kv = options.kv;
  report.split = options.questions;
  report.constrained = options.constrain_tool_calls;
  const training::CurriculumSplit split = curriculum_split(options.questions);
  training::CurriculumOptions tool_options;
  tool_options.seed = options.seed;
  tool_options.split = split;
  tool_options.mix = training::parse_task_mix("calculator=0.45,calendar=0.25,multi=0.05");
  tool_options.tools = offered;
  tool_options.max_tokens = 0;
  training::CurriculumGenerator tool_gen(tool_options, caller, nullptr);
  for (int64_t i = 0; i < options.tool_examples; ++i) {
    const training::Conversation conversation = tool_gen.conversation(static_cast<uint64_t>(i));
    const Reference ref = split_conversation(conversation);
    agents::LlmRequest request;
    for (const auto& m : ref.prefix) request.messages.push_back(agents::message_from_json(m));
    request.tools = json::parse(conversation.tools.dump());
    const agents::LlmResponse first = provider->complete(request);
    report.tool_total += 1;

    bool format = !first.tool_calls.empty();
    for (const auto& call : first.tool_calls) {
      json args = json::parse(call.arguments_text, nullptr, false);
      format = format && !call.name.empty() && args.is_object();
    }
    // Match the model's calls to the reference calls by tool results (any order).
    bool right = format && first.tool_calls.size() == ref.calls.size();
    bool exact = right;
    std::vector<json> model_results;
    if (right) {
      std::vector<bool> used(ref.calls.size(), false);
      for (const auto& call : first.tool_calls) {
        json result = try_call(call.name, call.arguments_text);
        json args = json::parse(call.arguments_text);
        bool matched = false;
        for (size_t k = 0; k < ref.calls.size() && !matched; ++k) {
          if (used[k] || ref.calls[k].first != call.name || result.is_null() || result != ref.results[k]) continue;
          used[k] = matched = true;
          exact = exact && args == ref.calls[k].second;
        }
        right = right && matched;
        model_results.push_back(result);
      }
    }
    exact = exact && right;
    report.format_ok += format;
    report.call_ok += right;
    report.exact_args += exact;
    json got_calls = json::array();
    for (const auto& call : first.tool_calls) got_calls.push_back({{"name", call.name}, {"arguments", call.arguments_text}});
    json want_calls = json::array();
    for (const auto& [name, args] : ref.calls) want_calls.push_back({{"name", name}, {"arguments", args}});
    if (!format)
      note_failure(report, limit, "format", conversation.task, user_text(ref), want_calls,
                   first.content.empty() ? json(got_calls) : json(first.content));
    else if (!right)
      note_failure(report, limit, "call", conversation.task, user_text(ref), want_calls, got_calls);

    // The answer turn: after the model's own calls when they were right, else after the reference calls
    // (so the answer is measured on its own).
    agents::ChatMessage assistant;
    assistant.role = "assistant";
    std::vector<json> results;
    if (right) {
      assistant.tool_calls = first.tool_calls;
      results = model_results;
    } else {
      for (size_t k = 0; k < ref.calls.size(); ++k) {
        agents::LlmToolCall call;
        call.id = "call_" + std::to_string(k + 1);
        call.name = ref.calls[k].first;
        call.arguments_text = ref.calls[k].second.dump();
        assistant.tool_calls.push_back(call);
      }
      results = ref.results;
    }
    request.messages.push_back(assistant);
    for (size_t k = 0; k < results.size(); ++k) {
      agents::ChatMessage tool;
      tool.role = "tool";
      tool.content = results[k].dump();
      tool.name = assistant.tool_calls[k].name;
      tool.tool_call_id = assistant.tool_calls[k].id;
      request.messages.push_back(tool);
    }
    const agents::LlmResponse second = provider->complete(request);
    std::vector<json> arguments;
    for (const auto& call : assistant.tool_calls) arguments.push_back(json::parse(call.arguments_text, nullptr, false));
    const std::vector<std::string> required = result_values_to_state(results, arguments, user_text(ref), ref.answer);
    bool answer = second.tool_calls.empty();
    if (required.empty()) answer = answer && second.content == ref.answer;
    for (const auto& v : required) answer = answer && contains_token(second.content, v);
    report.answer_ok += answer;
    if (!answer) note_failure(report, limit, "answer", conversation.task, user_text(ref), ref.answer, second.content);
    say("tool " + std::to_string(i + 1) + "/" + std::to_string(options.tool_examples) + " " + conversation.task +
        (format ? "" : " bad-format") + (right ? "" : " wrong-call") + (answer ? "" : " wrong-answer"));
  }

  inference::Tokenizer tokenizer = inference::Tokenizer::from_file(dir / "tokenizer.json");
  agents::LlmProvider& keys_provider = *provider;
  for (int64_t length : options.passkey_lengths) {
    training::CurriculumOptions o;
    o.seed = options.seed;
    o.split = split;
    o.mix = training::parse_task_mix("passkey=1");
    o.passkey_min_tokens = o.passkey_max_tokens = length;
    o.max_tokens = 0;
    training::CurriculumGenerator gen(o, caller, &tokenizer);
    QualityReport::Passkey result;
    result.length = length;
    static const std::regex key_re("[0-9]{4,}");
    for (int64_t i = 0; i < options.passkey_examples; ++i) {
      const Reference ref = split_conversation(gen.conversation(static_cast<uint64_t>(i)));
      std::smatch m;
      if (!std::regex_search(ref.answer, m, key_re))
        throw std::runtime_error("passkey example " + std::to_string(i) + " has no key in its reference answer");
      const std::string key = m.str();
      agents::LlmRequest request;
      for (const auto& message : ref.prefix) request.messages.push_back(agents::message_from_json(message));
      request.max_tokens = 16;
      const agents::LlmResponse response = keys_provider.complete(request);
      const bool ok = contains_token(response.content, key);
      result.total += 1;
      result.correct += ok;
      if (!ok)
        note_failure(report, limit, "passkey", "passkey",
                     "passkey at " + std::to_string(length) + " tokens", key, response.content);
      say("passkey " + std::to_string(length) + " " + std::to_string(i + 1) + "/" +
          std::to_string(options.passkey_examples) + (ok ? " ok" : " wrong"));
    }
    report.passkey.push_back(result);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace chorus::cli
