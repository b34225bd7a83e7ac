// chorus eval: runs a workflow once per dataset question (in this process) and reports accuracy and costs.
#include "cli/command-registry.h"
#include "cli/eval-dataset.h"
#include "cli/eval-report.h"
#include "cli/eval-runner.h"
#include "cli/provider-override.h"
#include "cli/workflow-kinds.h"
#include "runtime/run-store.h"
#include "runtime/workflow-spec.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

namespace chorus::cli {
namespace {

constexpr int kExitAllFailed = 1;
constexpr int kExitUsage = 2;

struct EvalOptions {
  std::string workflow, dataset, format;
  int limit = 0;         // with limit_given
  bool limit_given = false;
  std::string provider;
  std::string input = "question";
  std::string output;
  std::string answer_format;
  std::string out;
  std::string store;
  bool json = false;
  bool quiet = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "chorus eval: " << message << "\n";
  exit_with(kExitUsage);
}

std::string answer_format_name(agents::AnswerFormat format) {
  switch (format) {
    case agents::AnswerFormat::number: return "number";
    case agents::AnswerFormat::letter: return "letter";
    case agents::AnswerFormat::text: return "text";
  }
  return "text";
}

agents::AnswerFormat default_answer_format(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::gsm8k: return agents::AnswerFormat::number;
    case DatasetFormat::mmlu: return agents::AnswerFormat::letter;
    case DatasetFormat::jsonl: return agents::AnswerFormat::text;
  }
  return agents::AnswerFormat::text;
}

std::string names_of(const std::map<std::string, runtime::InputSpec>& inputs) {
  std::string out;
  for (const auto& [name, input] : inputs) out.append(out.empty() ? "" : ", ").append(name);
  return out.empty() ? "(none)" : out;
}

// The workflow, parsed and checked, with --provider applied (problems end the command with exit 2).
runtime::WorkflowSpec load_workflow(const EvalOptions& options, const runtime::AgentKindRegistry& kinds,
                                    std::string& yaml_text) {
  std::ifstream in(options.workflow, std::ios::binary);
  if (!in) usage_error("cannot read the workflow '" + options.workflow + "' (no such file or not readable)");
  yaml_text.assign(std::istreambuf_iterator<char>(in), {});
  runtime::WorkflowSpec spec;
  try {
    spec = runtime::WorkflowSpec::parse(yaml_text, options.workflow, &kinds);
  } catch (const runtime::WorkflowError& e) {
    std::cerr << "chorus eval: the workflow has " << e.problems().size()
              << (e.problems().size() == 1 ? " problem" : " problems") << ":\n";
    for (const auto& problem : e.problems()) std::cerr << "  " << problem << "\n";
    exit_with(kExitUsage);
  }
  for (const auto& warning : spec.warnings) std::cerr << warning << "\n";
  if (!options.provider.empty()) {
    nlohmann::json llm;
    try {
      llm = parse_provider_spec(options.provider);
    } catch (const std::invalid_argument& e) {
      usage_error(e.what());
    }
    if (override_agent_llms(spec, llm) == 0)
      usage_error("--provider: no agent of " + options.workflow + " has an `llm:` section to replace");
    for (const auto& [name, agent] : spec.agents) {
      const runtime::AgentKind* kind = kinds.find(agent.kind);
      if (agent.llm.is_null() || !kind || !kind->check) continue;
      for (const auto& problem : kind->check(agent.to_json()))
        usage_error("--provider " + options.provider + ": agent '" + name + "': " + problem);
    }
  }
  if (!spec.inputs.count(options.input))
    usage_error("the workflow " + options.workflow + " has no input '" + options.input +
                "' to put the question in; its inputs are: " + names_of(spec.inputs) + " (choose one with --input NAME)");
  if (!options.output.empty()) {
    bool found = spec.flow.steps.count(options.output) > 0 || spec.tasks.count(options.output) > 0;
    if (!found) {
      std::string steps;
      for (const auto& name : spec.flow.order) steps.append(steps.empty() ? "" : ", ").append(name);
      usage_error("--output '" + options.output + "' is no step or task of " + options.workflow +
                  "; its steps are: " + steps);
    }
  }
  return spec;
}

// "correct", "wrong (expected X, got Y)" or "failed: ERROR".
std::string verdict(const QuestionResult& result) {
  if (!result.error.empty()) return "failed: " + result.error;
  if (result.correct) return "correct";
  std::string text = "wrong (expected ";
  text.append(result.expected).append(", got ").append(result.predicted.value_or("no answer")).append(")");
  return text;
}

// A fresh SQLite file for this eval's runs (removed at the end) unless --store names one to keep.
class EvalStore {
 public:
  explicit EvalStore(const std::string& keep_path) {
    if (keep_path.empty()) {
      auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
      temp_path_ = (std::filesystem::temp_directory_path() /
                    ("chorus-eval-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + ".db"))
                       .string();
    }
    store_ = std::make_unique<runtime::RunStore>(keep_path.empty() ? temp_path_ : keep_path);
  }
  ~EvalStore() {
    store_.reset();
    if (temp_path_.empty()) return;
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(temp_path_ + suffix, ignored);
  }
  EvalStore(const EvalStore&) = delete;
  EvalStore& operator=(const EvalStore&) = delete;
  runtime::RunStore& store() { return *store_; }

 private:
  std::string temp_path_;
  std::unique_ptr<runtime::RunStore> store_;
};

void run_eval(const EvalOptions& options) {
  DatasetFormat format{};
  try {
    format = parse_dataset_format(options.format);
  } catch (const std::invalid_argument& e) {
    usage_error(std::string("--format: ") + e.what());
  }
  agents::AnswerFormat answer_format = default_answer_format(format);
  if (!options.answer_format.empty()) try {
      answer_format = agents::parse_answer_format(options.answer_format);
    } catch (const std::invalid_argument& e) {
      usage_error(std::string("--answer-format: ") + e.what());
    }
  if (options.limit_given && options.limit < 1)
    usage_error("--limit must be 1 or more (got " + std::to_string(options.limit) + ")");

  auto kinds = make_workflow_kinds(options.workflow);
  EvalSetup setup;
  runtime::WorkflowSpec spec = load_workflow(options, *kinds, setup.yaml_text);
  setup.spec = &spec;
  setup.kinds = kinds.get();
  setup.input = options.input;
  setup.output = options.output;
  setup.answer_format = answer_format;
  setup.ask_for_letter = answer_format == agents::AnswerFormat::letter;

  std::vector<EvalQuestion> questions;
  try {
    questions = read_dataset(options.dataset, format);
  } catch (const DatasetError& e) {
    usage_error(e.what());
  }
  if (questions.empty()) usage_error(options.dataset + ": the dataset has no questions");
  if (options.limit_given && questions.size() > static_cast<size_t>(options.limit)) questions.resize(options.limit);
  try {
    question_inputs(setup, questions.front());  // other required inputs missing, ...: before any run
  } catch (const runtime::WorkflowError& e) {
    std::string problems;
    for (const auto& problem : e.problems()) problems.append("\n  ").append(problem);
    usage_error("the workflow's inputs cannot be filled from the dataset (only --input " + options.input +
                " and `choices` are):" + problems + "\n  give the other inputs defaults in the workflow");
  }

  std::ofstream out_file;
  if (!options.out.empty()) {
    out_file.open(options.out, std::ios::binary | std::ios::trunc);
    if (!out_file) usage_error("cannot write --out '" + options.out + "'");
  }
  std::unique_ptr<EvalStore> store;
  try {
    store = std::make_unique<EvalStore>(options.store);
  } catch (const std::exception& e) {
    usage_error(e.what());
  }

  const auto started = std::chrono::steady_clock::now();
  std::vector<QuestionResult> results;
  for (size_t i = 0; i < questions.size(); ++i) {
    QuestionResult result = run_question(setup, store->store(), questions[i], static_cast<int>(i));
    if (out_file.is_open()) out_file << result.to_json().dump() << "\n" << std::flush;
    if (!options.quiet)
      std::cerr << "eval [" << (i + 1) << "/" << questions.size() << "] " << verdict(result) << "\n";
    results.push_back(std::move(result));
  }
  const double wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  store.reset();

  const EvalSummary summary = summarize(results, wall_seconds);
  const EvalDescription what{options.workflow, options.dataset, to_string(format), answer_format_name(answer_format)};
  if (options.json)
    std::cout << summary_json(what, summary, results).dump(2) << "\n";
  else
    print_summary_table(std::cout, what, summary, results);
  std::cout << std::flush;
  if (summary.failures == summary.questions) {
    std::cerr << "chorus eval: every question's run failed (first error: " << results.front().error << ")\n";
    exit_with(kExitAllFailed);
  }
}

void install_eval_command(CLI::App& root) {
  auto* eval = root.add_subcommand(
      "eval", "Evaluate a workflow on a dataset (MMLU CSV, GSM8K or generic JSONL): one run per question in this "
              "process; prints accuracy, tokens, tool calls and model turns per question, wall time and failures "
              "(exit 0 when it ran, 1 when every run failed, 2 bad arguments, dataset or workflow)");
  static EvalOptions options;
  eval->add_option("--workflow", options.workflow, "The workflow file run for each question")
      ->required()
      ->type_name("FILE");
  eval->add_option("--dataset", options.dataset, "The questions")->required()->type_name("FILE");
  eval->add_option("--format", options.format,
                   "mmlu: CSV question,A,B,C,D,answer (header optional); gsm8k: JSONL {question, answer} with the "
                   "gold number after ####; jsonl: JSONL {question, answer, choices?}")
      ->required()
      ->type_name("mmlu|gsm8k|jsonl");
  eval->add_option("--limit", options.limit, "Only the first N questions")->type_name("N");
  eval->add_option("--provider", options.provider,
                   "Replace the whole `llm:` of every agent that has one (its other llm keys are dropped): "
                   "local:DIR, openai:MODEL[@BASE_URL], scripted:FILE, or a JSON object")
      ->type_name("SPEC");
  eval->add_option("--input", options.input,
                   "The workflow input that gets the question (default: question), with its options as 'A) ...' "
                   "lines and, for letter answers, the instruction to answer with the letter; an input named "
                   "`choices` gets the options too")
      ->type_name("NAME");
  eval->add_option("--output", options.output,
                   "The step or task whose output is the prediction (an object's \"answer\" field, else its JSON); "
                   "default: the last task step that finished")
      ->type_name("TASK");
  eval->add_option("--answer-format", options.answer_format,
                   "How answers are extracted and compared (default: gsm8k number, mmlu letter, jsonl text)")
      ->type_name("number|letter|text");
  eval->add_option("--out", options.out,
                   "Write one JSON line per question: index, question, expected, predicted, correct, tokens, "
                   "tool_calls, turns, seconds, error")
      ->type_name("FILE.jsonl");
  eval->add_option("--store", options.store, "Keep the runs in this run store (default: a temporary one, removed)")
      ->type_name("FILE");
  eval->add_flag("--json", options.json, "Print the summary as JSON on stdout instead of the table");
  eval->add_flag("--quiet,-q", options.quiet, "No per-question progress on stderr");
  eval->callback([eval] {
    options.limit_given = eval->count("--limit") > 0;
    run_eval(options);
  });
}

}  // namespace

CHORUS_CLI_COMMAND(eval, 56, install_eval_command);

}  // namespace chorus::cli
