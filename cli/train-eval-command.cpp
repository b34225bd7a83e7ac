// chorus train eval: the bundled model's quality on the curriculum's held-out split (cli/model-quality.h).
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/model-quality.h"
#include "cli/train-command.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {
namespace {

std::vector<int64_t> parse_lengths(const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (used != item.size() || v < 16) throw std::invalid_argument("");
      out.push_back(v);
    } catch (const std::exception&) {
      throw std::invalid_argument("--passkey-lengths " + text + ": expected token counts >= 16, e.g. 1024,2048");
    }
  }
  return out;
}

void install_train_eval(CLI::App& root) {
  static std::string model, lengths = "1024,2048", kv, markdown_out, device = "cpu", questions = "held-out";
  static int64_t tool_examples = 200, passkey_examples = 20, failures = 5;
  static uint64_t seed = 1;
  static bool as_json = false, quiet = false, unconstrained = false;
  static double min_format = 0, min_call = 0, min_answer = 0, min_passkey = 0;
  auto* cmd = train_app(root)->add_subcommand(
      "eval", "Measure a model on the curriculum's held-out split through the local provider: tool-call format, "
              "right tool and arguments, answers stating the tool result, passkey retrieval; exit 1 below a --min-*");
  cmd->add_option("--model", model, "Model directory (config.json, model.safetensors, tokenizer.json)")->required();
  cmd->add_option("--tool-examples", tool_examples, "Held-out tool questions (calculator, calendar, multi)")
      ->capture_default_str();
  cmd->add_option("--passkey-examples", passkey_examples, "Passkey prompts per length")->capture_default_str();
  cmd->add_option("--passkey-lengths", lengths, "Passkey context lengths in tokens, comma-separated")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "Curriculum seed (the eval split has its own streams)")->capture_default_str();
  cmd->add_option("--questions", questions,
                  "held-out: new sentence frames, date forms and numbers, operations named with words training "
                  "taught; unseen-words: the same questions with operation words training never used (\"less\", "
                  "\"workdays\", new word problems); train: the train split's phrasings (a diagnostic)")
      ->capture_default_str()
      ->check(CLI::IsMember(quality_question_sets()));
  cmd->add_flag("--unconstrained", unconstrained,
                "Let the model write tool calls unguided (the local provider's constrain_tool_calls: false), to "
                "measure the model alone");
  cmd->add_option("--kv", kv, "KV compression for every prompt, JSON like the local provider's kv: "
                              "'{\"method\":\"qfilters\",\"keep_ratio\":0.5}' (default: full cache)");
  cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--json", as_json, "Print the report as JSON on stdout");
  cmd->add_option("--failures", failures, "Misses listed in the JSON report per kind (format, call, answer, passkey)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--markdown", markdown_out, "Also write the table as markdown to this file");
  cmd->add_flag("--quiet", quiet, "No progress lines on stderr");
  cmd->add_option("--min-format", min_format, "Fail (exit 1) when the valid-format rate is below this (0..1)");
  cmd->add_option("--min-call", min_call, "Fail when the right-call rate is below this");
  cmd->add_option("--min-answer", min_answer, "Fail when the answer rate is below this");
  cmd->add_option("--min-passkey", min_passkey, "Fail when any passkey length's accuracy is below this");
  cmd->callback([] {
    bool below = false;
    run_reporting_errors("train eval", [&] {
      QualityOptions o;
      o.model_dir = model;
      o.tool_examples = tool_examples;
      o.passkey_examples = passkey_examples;
      o.passkey_lengths = parse_lengths(lengths);
      o.seed = seed;
      o.questions = questions;
      o.constrain_tool_calls = !unconstrained;
      o.device = device;
      o.failures_per_kind = failures;
      if (!kv.empty()) {
        o.kv = nlohmann::json::parse(kv, nullptr, false);
        if (!o.kv.is_object())
          throw std::invalid_argument("--kv " + kv + ": expected a JSON object like {\"method\":\"qfilters\",\"keep_ratio\":0.5}");
      }
      if (!quiet) o.progress = [](const std::string& line) { std::cerr << line << "\n"; };
      QualityReport report = evaluate_model_quality(o);
      const nlohmann::json j = report.to_json();
      if (as_json) std::cout << j.dump(2) << "\n";
      else std::cout << report.markdown() << "(" << static_cast<int>(report.seconds) << " s)\n";
      if (!markdown_out.empty()) {
        std::ofstream out(markdown_out);
        if (!out) throw std::runtime_error("--markdown " + markdown_out + ": cannot write");
        out << report.markdown();
      }
      auto check = [&](const std::string& name, const nlohmann::json& value, double min) {
        if (value.is_null()) {  // no examples of it were asked for
          if (min <= 0) return;
          std::cerr << "train eval: " << name << " was not measured (no examples), so it cannot reach " << min << "\n";
          below = true;
          return;
        }
        if (value.get<double>() + 1e-12 >= min) return;
        std::cerr << "train eval: " << name << " " << value.get<double>() << " is below the required " << min << "\n";
        below = true;
      };
      check("format_valid", j["format_valid"], min_format);
      check("right_call", j["right_call"], min_call);
      check("answer_states_result", j["answer_states_result"], min_answer);
      for (const auto& p : j["passkey"])
        check("passkey@" + std::to_string(p["length"].get<int64_t>()), p["accuracy"], min_passkey);
    });
    if (below) exit_with(1);
  });
}

}  // namespace

CHORUS_CLI_COMMAND(train_eval, 62, install_train_eval);

}  // namespace chorus::cli
