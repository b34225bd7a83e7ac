#pragma once
// One question of `chorus eval`: a workflow run in this process, its prediction compared with the gold answer, and
// what it cost (tokens, tool calls, model turns, seconds).
#include "agents/answer-extract.h"
#include "cli/eval-dataset.h"
#include "runtime/agent-kinds.h"
#include "runtime/run-store.h"
#include "runtime/workflow-spec.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace chorus::cli {

// What every question of an eval shares. Neither pointer is owned; both outlive the runs.
struct EvalSetup {
  const runtime::WorkflowSpec* spec = nullptr;   // the workflow (with --provider already applied)
  const runtime::AgentKindRegistry* kinds = nullptr;
  std::string yaml_text;                         // stored with each run
  std::string input = "question";                // the workflow input the question goes into
  std::string output;                            // the step or task whose output is the prediction; "": last task
  agents::AnswerFormat answer_format = agents::AnswerFormat::text;
  bool ask_for_letter = false;                   // options are answered by letter (the prompt says so)
};

// The outcome of one question.
struct QuestionResult {
  int index = 0;                  // 0-based position in the dataset
  int line = 0;                   // dataset line
  std::string question;
  std::string expected;
  std::optional<std::string> predicted;  // nullopt: no answer of the format found (or the run failed)
  std::string output_text;        // what the answer was extracted from
  bool correct = false;
  long long prompt_tokens = 0, completion_tokens = 0;  // the run record's totals
  int tool_calls = 0;             // "tool" effects journaled in the run
  int turns = 0;                  // "llm" effects (model calls) journaled in the run
  double seconds = 0;             // wall time of the run
  std::string run_id;
  std::string error;              // non-empty: the run failed (counted wrong)

  // {index, line, question, expected, predicted, correct, tokens, prompt_tokens, completion_tokens, tool_calls,
  //  turns, seconds, run_id, output, error?} (one line of --out).
  nlohmann::json to_json() const;
};

// The workflow inputs for `question`: the prompt under setup.input, and `choices` when the workflow declares it
// (a JSON array when its default is one, else the "A) ..." lines). Throws runtime::WorkflowError like
// WorkflowSpec::resolve_inputs.
nlohmann::json question_inputs(const EvalSetup& setup, const EvalQuestion& question);

// Runs `question` as a new run in `store` and scores it; never throws for a failed run (the error is recorded).
QuestionResult run_question(const EvalSetup& setup, runtime::RunStore& store, const EvalQuestion& question, int index);

// The text an answer is extracted from: an object's "answer" (text, or its JSON; also when the object is written
// as JSON text), else a string as is and anything else as JSON.
std::string prediction_text(const nlohmann::json& output);

}  // namespace chorus::cli
