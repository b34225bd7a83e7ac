#pragma once
// The summary of a `chorus eval`: accuracy and per-question costs, as JSON or a short table.
#include "cli/eval-runner.h"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace chorus::cli {

// What the summary names besides the results.
struct EvalDescription {
  std::string workflow, dataset, format, answer_format;
};

struct EvalSummary {
  int questions = 0;
  int correct = 0;
  int failures = 0;  // runs that failed (counted wrong)
  double accuracy = 0;
  long long prompt_tokens = 0, completion_tokens = 0;
  long long tool_calls = 0, turns = 0;
  double wall_seconds = 0;  // the whole eval
};

// Totals over `results`; `wall_seconds` is the eval's elapsed time.
EvalSummary summarize(const std::vector<QuestionResult>& results, double wall_seconds);

// {workflow, dataset, format, answer_format, questions, correct, accuracy, failures, tokens_per_question,
//  prompt_tokens, completion_tokens, tool_calls_per_question, turns_per_question, wall_seconds,
//  seconds_per_question, errors: [{index, line, error}]}.
nlohmann::json summary_json(const EvalDescription& what, const EvalSummary& summary,
                            const std::vector<QuestionResult>& results);

// The same as a short human-readable table (and the first failed questions).
void print_summary_table(std::ostream& out, const EvalDescription& what, const EvalSummary& summary,
                         const std::vector<QuestionResult>& results);

}  // namespace chorus::cli
