// chorus train data: the seeded training curriculum (training/curriculum.h, docs/curriculum.md) as JSONL token
// files, with tool results from the real calculator and calendar tools.
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/train-command.h"
#include "inference/tokenizer.h"
#include "tools/builtin-tools.h"
#include "training/curriculum.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

namespace chorus::cli {
namespace {

struct TrainDataArgs {
  std::string tokenizer_dir, out, eval_out, text_out, corpus_out, mix, passkey_lengths = "256,2048";
  uint64_t count = 1000, eval_count = 200, corpus_count = 0, seed = 1;
  int64_t max_tokens = 2304, preamble_words = 200;
  double question_noise = 0;
};

std::ofstream open_out(const std::string& path, const std::string& option) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(option + " " + path + ": cannot write");
  return out;
}

std::pair<int64_t, int64_t> parse_lengths(const std::string& text) {
  const size_t comma = text.find(',');
  try {
    size_t used = 0;
    if (comma == std::string::npos) {
      const int64_t v = std::stoll(text, &used);
      if (used == text.size()) return {v, v};
    } else {
      const std::string a = text.substr(0, comma), b = text.substr(comma + 1);
      size_t ua = 0, ub = 0;
      const int64_t lo = std::stoll(a, &ua), hi = std::stoll(b, &ub);
      if (ua == a.size() && ub == b.size()) return {lo, hi};
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("--passkey-lengths " + text + ": expected MIN,MAX token counts, e.g. 256,2048");
}

struct Totals {
  std::map<std::string, uint64_t> tasks;
  uint64_t examples = 0, tokens = 0, masked = 0;
  void add(const training::TokenizedExample& ex) {
    ++examples;
    ++tasks[ex.task];
    tokens += ex.ids.size();
    for (auto m : ex.mask) masked += m;
  }
  std::string summary() const {
    std::string s = std::to_string(examples) + " examples (";
    bool first = true;
    for (const auto& [task, n] : tasks) {
      if (!first) s += ", ";
      first = false;
      s += task + " " + std::to_string(n);
    }
    s += ")";
    if (tokens) s += ", " + std::to_string(tokens) + " tokens, " + std::to_string(masked) + " trained on";
    return s;
  }
};

void run_train_data(const TrainDataArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  if (a.out.empty() && a.eval_out.empty() && a.text_out.empty() && a.corpus_out.empty())
    throw std::invalid_argument("nothing to write: give --out, --eval-out, --text-out or --corpus-out");
  if ((!a.out.empty() || !a.eval_out.empty()) && a.tokenizer_dir.empty())
    throw std::invalid_argument("--out and --eval-out need --tokenizer-dir (a directory with tokenizer.json)");
  std::optional<inference::Tokenizer> tokenizer;
  if (!a.tokenizer_dir.empty()) {
    const auto path = std::filesystem::path(a.tokenizer_dir) / "tokenizer.json";
    if (!std::filesystem::exists(path))
      throw std::runtime_error("--tokenizer-dir " + a.tokenizer_dir + ": no tokenizer.json there");
    tokenizer.emplace(inference::Tokenizer::from_file(path));
  }

  // The real tools: the data holds exactly what they return. Only calculator and calendar are offered.
  auto registry = std::make_shared<tools::ToolRegistry>(tools::make_builtin_registry());
  nlohmann::ordered_json offered = nlohmann::ordered_json::array();
  for (const char* name : {"calculator", "calendar"}) {
    const tools::Tool* tool = registry->find(name);
    if (!tool) throw std::runtime_error(std::string("the built-in tools lack '") + name + "'");
    offered.push_back(nlohmann::ordered_json::parse(tools::to_openai_tool(tool->spec).dump()));
  }
  uint64_t tool_calls = 0;
  training::ToolCaller caller = [registry, &tool_calls](const std::string& name, const nlohmann::json& args) {
    ++tool_calls;
    const tools::CallResult r = registry->call(name, args);
    if (!r.ok())
      throw std::runtime_error("tool " + name + " " + args.dump() + " returned " + tools::to_string(r.status) + ": " +
                               r.error);
    return r.value;
  };

  training::CurriculumOptions options;
  options.seed = a.seed;
  if (!a.mix.empty()) options.mix = training::parse_task_mix(a.mix);
  std::tie(options.passkey_min_tokens, options.passkey_max_tokens) = parse_lengths(a.passkey_lengths);
  options.max_tokens = a.max_tokens;
  options.preamble_max_words = a.preamble_words;
  options.question_noise = a.question_noise;
  options.tools = offered;
  const inference::Tokenizer* tok = tokenizer ? &*tokenizer : nullptr;

  std::string report;
  if (!a.out.empty() || !a.text_out.empty() || !a.corpus_out.empty()) {
    training::CurriculumGenerator gen(options, caller, tok);
    std::ofstream out, text, corpus;
    if (!a.out.empty()) out = open_out(a.out, "--out");
    if (!a.text_out.empty()) text = open_out(a.text_out, "--text-out");
    if (!a.corpus_out.empty()) corpus = open_out(a.corpus_out, "--corpus-out");
    const uint64_t corpus_count = a.corpus_count ? a.corpus_count : a.count;
    const uint64_t n = std::max(a.count, a.corpus_out.empty() ? 0 : corpus_count);
    Totals totals;
    for (uint64_t i = 0; i < n; ++i) {
      const auto ex = gen.example(i);
      if (i < corpus_count && corpus.is_open()) corpus << ex.text << "\n";
      if (i >= a.count) continue;
      totals.add(ex);
      if (out.is_open()) out << training::example_json_line(ex) << "\n";
      if (text.is_open()) text << "=== example " << i << " (" << ex.task << ") ===\n" << ex.text << "\n";
    }
    for (auto* f : {&out, &text, &corpus})
      if (f->is_open() && !f->flush()) throw std::runtime_error("write error");
    report += "train: " + totals.summary();
    if (gen.redraws()) report += ", " + std::to_string(gen.redraws()) + " over-long draws replaced";
  }
  if (!a.eval_out.empty()) {
    training::CurriculumOptions eval_options = options;
    eval_options.split = training::CurriculumSplit::eval;
    training::CurriculumGenerator gen(eval_options, caller, tok);
    std::ofstream out = open_out(a.eval_out, "--eval-out");
    Totals totals;
    for (uint64_t i = 0; i < a.eval_count; ++i) {
      const auto ex = gen.example(i);
      totals.add(ex);
      out << training::example_json_line(ex) << "\n";
    }
    if (!out.flush()) throw std::runtime_error("--eval-out " + a.eval_out + ": write error");
    report += std::string(report.empty() ? "" : "; ") + "eval: " + totals.summary();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", seconds);
  std::cout << report << "; " << tool_calls << " tool calls, 0 errors; " << buf << " s\n";
}

void install_train_data(CLI::App& root) {
  static TrainDataArgs a;
  auto* cmd = train_app(root)->add_subcommand(
      "data", "Generate the seeded training curriculum (tool use, passkey, chat) as JSONL {ids, mask, task}");
  cmd->add_option("--tokenizer-dir", a.tokenizer_dir, "Directory with tokenizer.json (needed for --out/--eval-out)");
  cmd->add_option("--out", a.out, "Training examples, JSONL {\"ids\", \"mask\", \"task\"}");
  cmd->add_option("--count", a.count, "Training examples to generate")->capture_default_str();
  cmd->add_option("--eval-out", a.eval_out, "Held-out eval examples (other seeds, held-out phrasings), JSONL");
  cmd->add_option("--eval-count", a.eval_count, "Eval examples to generate")->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed of the curriculum")->capture_default_str();
  cmd->add_option("--mix", a.mix,
                  "Task weights of calculator, calendar, passkey, chat, multi, copy, repeat, induction, induction_mixed, induction_spans, induction_spans_mixed, recall, session, arguments (unnamed tasks: 0; default: "
                  "calculator=0.45,calendar=0.25,passkey=0.2,chat=0.1,multi=0.05)");
  cmd->add_option("--passkey-lengths", a.passkey_lengths, "MIN,MAX passkey context length in tokens")
      ->capture_default_str();
  cmd->add_option("--max-tokens", a.max_tokens, "Longest example in tokens (longer draws are replaced; 0 = no limit)")
      ->capture_default_str();
  cmd->add_option("--preamble-words", a.preamble_words,
                  "Plain documents (induction*, recall, arguments) start with a line of 0..N random words, so their content "
                  "sits at a random distance from the start (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option(
         "--question-noise", a.question_noise,
         "Train split: the share of tool questions given 1-2 random words between two of their plain words "
         "(never next to a number or date), so that no fixed wording is needed to find the call (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--text-out", a.text_out, "The rendered training texts, for inspection");
  cmd->add_option("--corpus-out", a.corpus_out,
                  "Rendered text of the training examples, for `chorus train tokenizer --text` (works without "
                  "--tokenizer-dir; passkey lengths are then estimated at 4 bytes per token)");
  cmd->add_option("--corpus-count", a.corpus_count, "Examples in --corpus-out (default: --count)");
  cmd->callback([] { run_reporting_errors("train data", [] { run_train_data(a); }); });
}

}  // namespace

CHORUS_CLI_COMMAND(train_data, 61, install_train_data);

}  // namespace chorus::cli
