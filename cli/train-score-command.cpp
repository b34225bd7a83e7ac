// chorus train score: a model's held-out target loss by curriculum task and by position inside each target run
// (training/target-loss.h).
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/train-command.h"
#include "training/target-loss.h"
#include "training/train-loop.h"

#include <iostream>
#include <stdexcept>

namespace chorus::cli {
namespace {

void install_train_score(CLI::App& root) {
  static std::string model, data, device = "cpu";
  static int64_t max_examples = 0, positions = 5, seq_len = 4096;
  static int threads = 0;
  static bool as_json = false;
  auto* cmd = train_app(root)->add_subcommand(
      "score", "Held-out target loss of a model on token JSONL (`chorus train data` output), by task and by position "
               "inside each run of target tokens: position 1 high and later ones low means copying by content");
  cmd->add_option("--model", model, "Model directory (config.json, model.safetensors)")->required();
  cmd->add_option("--data", data, "Examples: JSONL of {\"ids\", \"mask\", \"task\"} lines")->required();
  cmd->add_option("--max", max_examples, "Score at most the first N examples (0: all)")->capture_default_str();
  cmd->add_option("--positions", positions, "Position columns: 1, 2, ..., the last pooling that one and later ones")
      ->capture_default_str();
  cmd->add_option("--seq-len", seq_len, "Longer examples are cut to this many tokens")->capture_default_str();
  cmd->add_option("--threads", threads, "CPU threads for libtorch (0: libtorch's default)")->capture_default_str();
  cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--json", as_json, "Print the rows as JSON on stdout");
  cmd->callback([] {
    run_reporting_errors("train score", [] {
      if (max_examples < 0) throw std::invalid_argument("--max must be >= 0");
      if (positions < 1 || positions > 64) throw std::invalid_argument("--positions must be between 1 and 64");
      if (seq_len < 2) throw std::invalid_argument("--seq-len must be at least 2");
      if (threads > 0) torch::set_num_threads(threads);
      auto trainer = training::LlamaTrainer::load_checkpoint(model, parse_device(device));
      auto examples = training::read_examples_jsonl(data, trainer.config().vocab_size);
      if (max_examples > 0 && static_cast<int64_t>(examples.size()) > max_examples)
        examples.resize(static_cast<size_t>(max_examples));
      const auto report = training::score_targets(trainer, examples, positions, seq_len);
      if (as_json) std::cout << report.to_json().dump(2) << "\n";
      else std::cout << report.table();
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(train_score, 64, install_train_score);

}  // namespace chorus::cli
