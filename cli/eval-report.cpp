#include "cli/eval-report.h"

#include <cstdio>

namespace chorus::cli {
namespace {

double per_question(double total, int questions) { return questions > 0 ? total / questions : 0.0; }

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

constexpr int kErrorsShown = 10;

}  // namespace

EvalSummary summarize(const std::vector<QuestionResult>& results, double wall_seconds) {
  EvalSummary s;
  s.questions = static_cast<int>(results.size());
  for (const auto& r : results) {
    s.correct += r.correct;
    s.failures += !r.error.empty();
    s.prompt_tokens += r.prompt_tokens;
    s.completion_tokens += r.completion_tokens;
    s.tool_calls += r.tool_calls;
    s.turns += r.turns;
  }
  s.accuracy = per_question(s.correct, s.questions);
  s.wall_seconds = wall_seconds;
  return s;
}

nlohmann::json summary_json(const EvalDescription& what, const EvalSummary& s,
                            const std::vector<QuestionResult>& results) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& r : results)
    if (!r.error.empty()) errors.push_back({{"index", r.index}, {"line", r.line}, {"error", r.error}});
  return {{"workflow", what.workflow},
          {"dataset", what.dataset},
          {"format", what.format},
          {"answer_format", what.answer_format},
          {"questions", s.questions},
          {"correct", s.correct},
          {"accuracy", s.accuracy},
          {"failures", s.failures},
          {"tokens_per_question", per_question(static_cast<double>(s.prompt_tokens + s.completion_tokens), s.questions)},
          {"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.completion_tokens},
          {"tool_calls_per_question", per_question(static_cast<double>(s.tool_calls), s.questions)},
          {"turns_per_question", per_question(static_cast<double>(s.turns), s.questions)},
          {"wall_seconds", s.wall_seconds},
          {"seconds_per_question", per_question(s.wall_seconds, s.questions)},
          {"errors", std::move(errors)}};
}

void print_summary_table(std::ostream& out, const EvalDescription& what, const EvalSummary& s,
                         const std::vector<QuestionResult>& results) {
  out << "eval of " << what.workflow << " on " << what.dataset << " (" << what.format << ", answers compared as "
      << what.answer_format << ")\n";
  out << "  questions            " << s.questions << "\n";
  out << "  accuracy             " << fixed(100.0 * s.accuracy, 1) << "% (" << s.correct << "/" << s.questions
      << ")\n";
  out << "  failures             " << s.failures << "\n";
  out << "  tokens/question      "
      << fixed(per_question(static_cast<double>(s.prompt_tokens + s.completion_tokens), s.questions), 1)
      << " (prompt " << fixed(per_question(static_cast<double>(s.prompt_tokens), s.questions), 1) << ", completion "
      << fixed(per_question(static_cast<double>(s.completion_tokens), s.questions), 1) << ")\n";
  out << "  tool calls/question  " << fixed(per_question(static_cast<double>(s.tool_calls), s.questions), 2) << "\n";
  out << "  turns/question       " << fixed(per_question(static_cast<double>(s.turns), s.questions), 2) << "\n";
  out << "  wall time            " << fixed(s.wall_seconds, 2) << " s (" << fixed(per_question(s.wall_seconds, s.questions), 3)
      << " s/question)\n";
  int shown = 0;
  for (const auto& r : results) {
    if (r.error.empty()) continue;
    if (shown == 0) out << "failed questions:\n";
    if (++shown > kErrorsShown) {
      out << "  ... " << (s.failures - kErrorsShown) << " more (--out FILE records every error)\n";
      break;
    }
    out << "  #" << r.index << " (line " << r.line << "): " << r.error << "\n";
  }
}

}  // namespace chorus::cli
