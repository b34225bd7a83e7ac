#include "cli/eval-runner.h"

#include "cli/workflow-kinds.h"
#include "runtime/local-runtime.h"
#include "runtime/workflow-engine.h"

#include <chrono>
#include <memory>
#include <stdexcept>

namespace chorus::cli {
namespace {

using nlohmann::json;

// Whether step record `step` counts as the prediction's source.
bool is_output_step(const EvalSetup& setup, const std::string& step) {
  auto it = setup.spec->flow.steps.find(step);
  if (it == setup.spec->flow.steps.end()) return false;
  const runtime::StepSpec& spec = it->second;
  if (spec.kind != runtime::StepSpec::Kind::task) return setup.output == step;
  const std::string task = spec.task.empty() ? spec.name : spec.task;
  return setup.output.empty() || setup.output == step || setup.output == task;
}

// The output of the step that gives the prediction: the last one to finish among the matching done steps.
std::optional<json> prediction_output(const EvalSetup& setup, runtime::RunStore& store, const std::string& run_id) {
  std::optional<runtime::StepRecord> chosen;
  for (const auto& step : store.list_steps(run_id)) {
    if (step.state != "done" || !is_output_step(setup, step.step)) continue;
    if (!chosen || step.finished_unix_ms >= chosen->finished_unix_ms) chosen = step;
  }
  if (!chosen) return std::nullopt;
  return chosen->output;
}

}  // namespace

json QuestionResult::to_json() const {
  json j{{"index", index},
         {"line", line},
         {"question", question},
         {"expected", expected},
         {"predicted", predicted ? json(*predicted) : json()},
         {"correct", correct},
         {"tokens", prompt_tokens + completion_tokens},
         {"prompt_tokens", prompt_tokens},
         {"completion_tokens", completion_tokens},
         {"tool_calls", tool_calls},
         {"turns", turns},
         {"seconds", seconds},
         {"run_id", run_id},
         {"output", output_text}};
  if (!error.empty()) j["error"] = error;
  return j;
}

std::string prediction_text(const json& output) {
  if (output.is_string()) {
    // A model often writes the JSON object as text.
    const std::string& text = output.get_ref<const std::string&>();
    json parsed = text.starts_with("{") ? json::parse(text, nullptr, false) : json();
    if (parsed.is_object() && parsed.contains("answer")) return prediction_text(parsed);
    return text;
  }
  if (output.is_object() && output.contains("answer")) {
    const json& answer = output["answer"];
    return answer.is_string() ? answer.get<std::string>() : answer.dump();
  }
  return output.dump();
}

json question_inputs(const EvalSetup& setup, const EvalQuestion& question) {
  std::map<std::string, std::string> given{{setup.input, question_prompt(question, setup.ask_for_letter)}};
  if (auto it = setup.spec->inputs.find("choices"); it != setup.spec->inputs.end() && setup.input != "choices") {
    const auto& def = it->second.default_value;
    if (def && def->is_array())
      given["choices"] = json(question.choices).dump();
    else if (!question.choices.empty() || !def)
      given["choices"] = choice_lines(question.choices);
  }
  return setup.spec->resolve_inputs(given);
}

QuestionResult run_question(const EvalSetup& setup, runtime::RunStore& store, const EvalQuestion& question,
                            int index) {
  QuestionResult result;
  result.index = index;
  result.line = question.line;
  result.question = question.question;
  result.expected = question.expected;
  const auto started = std::chrono::steady_clock::now();
  try {
    json inputs = question_inputs(setup, question);
    auto local = make_local_runtime(*setup.spec, *setup.kinds);
    runtime::WorkflowEngine engine(*local, store);
    runtime::RunRecord run = engine.start(*setup.spec, setup.yaml_text, inputs);
    result.run_id = run.id;
    result.prompt_tokens = run.prompt_tokens;
    result.completion_tokens = run.completion_tokens;
    for (const auto& effect : store.list_effects(run.id)) {
      if (effect.kind == "llm") ++result.turns;
      if (effect.kind == "tool") ++result.tool_calls;
    }
    if (run.state != "done") {
      result.error = "run " + run.state + ": " + run.error;
    } else if (auto output = prediction_output(setup, store, run.id)) {
      result.output_text = prediction_text(*output);
      result.predicted = agents::extract_answer(result.output_text, setup.answer_format);
      result.correct =
          result.predicted && agents::answers_match(*result.predicted, question.expected, setup.answer_format);
    } else {
      result.error = setup.output.empty() ? "no task step finished in the run"
                                          : "step or task '" + setup.output + "' did not run";
    }
  } catch (const runtime::WorkflowError& e) {
    result.error = "";
    for (const auto& problem : e.problems()) result.error.append(result.error.empty() ? "" : "; ").append(problem);
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chorus::cli
