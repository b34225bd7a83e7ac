// chorus train model: train the project's Llama-architecture model on token JSONL (training/train-loop.h) and
// write it in Hugging Face layout (config.json, generation_config.json, model.safetensors) + train_log.jsonl.
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/train-command.h"
#include "inference/tokenizer.h"
#include "training/llama-trainer.h"
#include "training/train-loop.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {
namespace {

using nlohmann::json;

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

training::LlamaTrainerConfig load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("--config " + path + ": cannot read");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error("--config " + path + ": not valid JSON (" + e.what() + ")");
  }
  return training::LlamaTrainerConfig::from_json(j, "--config " + path);
}

// The ids of the tokenizer's eos_token (tokenizer_config.json) and of <|endoftext|>, for config.json's
// eos_token_id, so generation stops at the end of an assistant turn; empty when the files do not name them.
std::vector<int64_t> tokenizer_stop_ids(const std::string& dir) {
  auto read = [&](const char* name) {
    std::ifstream in(std::filesystem::path(dir) / name);
    return in ? json::parse(in, nullptr, false) : json();
  };
  const json config = read("tokenizer_config.json"), tokenizer = read("tokenizer.json");
  std::vector<int64_t> ids;
  if (!tokenizer.is_object() || !tokenizer.contains("added_tokens")) return ids;
  std::vector<std::string> names;
  if (config.is_object() && config.contains("eos_token") && config["eos_token"].is_string())
    names.push_back(config["eos_token"].get<std::string>());
  names.push_back("<|endoftext|>");
  for (const auto& name : names)
    for (const auto& token : tokenizer["added_tokens"])
      if (token.value("content", "") == name && std::find(ids.begin(), ids.end(), token.value("id", -1)) == ids.end())
        ids.push_back(token.value("id", -1));
  return ids;
}

// One more than the largest token id in DIR/tokenizer.json (the rows its model's embedding needs).
int64_t tokenizer_id_bound(const std::string& dir) {
  const auto path = std::filesystem::path(dir) / "tokenizer.json";
  if (!std::filesystem::is_regular_file(path))
    throw std::invalid_argument("--tokenizer " + dir + ": no tokenizer.json there");
  return inference::Tokenizer::from_file(path).id_end();
}

void install_train_model(CLI::App& root) {
  static std::string data, eval, config_file, preset, out, device = "cpu", dtype = "bf16", log_file, resume, init,
                     tokenizer_dir;
  static training::TrainOptions o;
  static int64_t vocab_size = 0, log_every = 10;
  static bool no_pack = false;
  o.eval_every = 100;
  auto* cmd = train_app(root)->add_subcommand(
      "model", "Train a Llama-architecture model on token JSONL ({\"ids\": [...], \"mask\": [...]} lines) and write "
               "it in Hugging Face layout (DIR/config.json, model.safetensors, train_log.jsonl)");
  cmd->add_option("--data", data, "Training examples: JSONL of {\"ids\": [...], \"mask\": [...]} (mask 1 = target)")
      ->required();
  cmd->add_option("--eval", eval, "Held-out examples (same format), evaluated every --eval-every steps");
  auto* config_opt = cmd->add_option("--config", config_file,
                                     "Model config JSON (config.json field names: vocab_size, hidden_size, ...)");
  auto* preset_opt = cmd->add_option("--preset", preset, "Model preset: tiny, small (~4M), base (~10M), large (~19M)");
  config_opt->excludes(preset_opt);
  cmd->add_option("--vocab-size", vocab_size,
                  "Override the config's vocab_size (a new model from --preset with --tokenizer: default the "
                  "tokenizer's size rounded up to a multiple of 64; a --config file's own vocab_size must fit the "
                  "tokenizer)");
  cmd->add_option("--tokenizer", tokenizer_dir,
                  "Copy tokenizer.json / tokenizer_config.json from this directory into --out; config.json's "
                  "eos_token_id becomes the ids of its eos_token and <|endoftext|>");
  cmd->add_option("--out", out, "Output model directory (created when missing)")->required();
  cmd->add_option("--steps", o.steps, "Optimizer steps (the schedule's length)")->capture_default_str();
  cmd->add_option("--batch", o.batch, "Examples per step")->capture_default_str();
  cmd->add_option("--seq-len", o.seq_len, "Tokens per row (longer examples are cut)")->capture_default_str();
  cmd->add_option("--context-loss-weight", o.context_loss_weight,
                  "Also train on the non-target tokens (prompts, tool results, filler) with this loss weight; "
                  "targets weigh 1 (0: targets only). The held-out loss is always the targets'")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_flag("--no-pack", no_pack, "One example per row instead of packing several whole examples per row");
  cmd->add_option("--lr", o.lr, "Peak learning rate (linear warmup, cosine decay to 10%)")->capture_default_str();
  cmd->add_option("--warmup", o.warmup, "Warmup steps")->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay on projection matrices")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed for initialisation and shuffling")->capture_default_str();
  cmd->add_option("--minutes", o.max_minutes, "Stop after this many minutes (0: no limit)")->capture_default_str();
  cmd->add_option("--threads", o.threads, "CPU threads for libtorch (0: libtorch's default)")->capture_default_str();
  cmd->add_option("--device", device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", dtype, "Weights dtype of the written model: bf16 or f32")->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "Evaluate every N steps (with --eval)")->capture_default_str();
  cmd->add_option("--eval-max", o.eval_max_examples, "Evaluate at most N held-out examples (0: all)");
  cmd->add_option("--checkpoint-every", o.checkpoint_every,
                  "Write a resumable checkpoint (f32 + optimizer.pt) to DIR/checkpoint every N steps (0: never)");
  cmd->add_option("--resume", resume, "Resume from a checkpoint directory (DIR/checkpoint of an earlier run)");
  cmd->add_option("--init", init,
                  "Start from the weights of a model directory (config included) with a fresh optimizer and schedule: "
                  "the next stage of a staged curriculum");
  cmd->add_option("--log", log_file, "Loss log JSONL (default DIR/train_log.jsonl)");
  cmd->add_option("--log-every", log_every, "Print a progress line every N steps")->capture_default_str();
  cmd->callback([] {
    run_reporting_errors("train model", [] {
      if (dtype != "bf16" && dtype != "f32") throw std::invalid_argument("--dtype '" + dtype + "': expected bf16 or f32");
      if (config_file.empty() && preset.empty() && resume.empty() && init.empty())
        throw std::invalid_argument("give --config FILE or --preset NAME (tiny, small, base, large)");
      if (!init.empty() && (!config_file.empty() || !preset.empty() || !resume.empty()))
        throw std::invalid_argument("--init " + init + " gives the model; drop --config, --preset and --resume");
      if (log_every <= 0) throw std::invalid_argument("--log-every must be positive");
      const auto dev = parse_device(device);
      if (dev.is_cuda()) at::globalContext().setAllowTF32CuBLAS(true);  // f32 master weights, TF32 matmuls
      o.pack = !no_pack;
      if (o.threads > 0) torch::set_num_threads(o.threads);

      std::optional<training::LlamaTrainer> model;
      if (!resume.empty()) {
        model.emplace(training::LlamaTrainer::load_checkpoint(resume, dev));
        o.resume_from = resume;
      } else if (!init.empty()) {
        model.emplace(training::LlamaTrainer::load_checkpoint(init, dev));
        if (vocab_size > 0 && vocab_size != model->config().vocab_size)
          throw std::invalid_argument("--vocab-size " + std::to_string(vocab_size) + " differs from " + init +
                                      "/config.json (" + std::to_string(model->config().vocab_size) + ")");
      } else {
        auto config = config_file.empty() ? training::LlamaTrainerConfig::preset(preset) : load_config(config_file);
        if (vocab_size > 0) config.vocab_size = vocab_size;
        if (!tokenizer_dir.empty()) {
          const int64_t bound = tokenizer_id_bound(tokenizer_dir);
          const std::string ids = tokenizer_dir + "/tokenizer.json has ids up to " + std::to_string(bound - 1);
          if (vocab_size > 0 && vocab_size < bound)
            throw std::invalid_argument("--vocab-size " + std::to_string(vocab_size) + " is too small: " + ids +
                                        "; give at least " + std::to_string(bound) + " or leave it out");
          if (vocab_size == 0 && !config_file.empty() && config.vocab_size < bound)
            throw std::invalid_argument(config_file + ": vocab_size " + std::to_string(config.vocab_size) +
                                        " is too small: " + ids + "; raise it or give --vocab-size");
          if (vocab_size == 0 && config_file.empty()) config.vocab_size = (bound + 63) / 64 * 64;
        }
        if (!tokenizer_dir.empty() && config.eos_token_ids.empty()) config.eos_token_ids = tokenizer_stop_ids(tokenizer_dir);
        config.validate();
        model.emplace(config, o.seed, dev);
      }
      const auto& config = model->config();
      auto train_examples = training::read_examples_jsonl(data, config.vocab_size);
      std::vector<training::TrainExample> eval_examples;
      if (!eval.empty()) eval_examples = training::read_examples_jsonl(eval, config.vocab_size);

      const std::filesystem::path out_dir = out;
      std::error_code ec;
      std::filesystem::create_directories(out_dir, ec);
      if (!std::filesystem::is_directory(out_dir))
        throw std::runtime_error("--out " + out + ": cannot create the output directory");
      const std::filesystem::path log_path = log_file.empty() ? out_dir / "train_log.jsonl" : std::filesystem::path(log_file);
      std::ofstream log(log_path, resume.empty() ? std::ios::trunc : std::ios::app);
      if (!log) throw std::runtime_error("--log " + log_path.string() + ": cannot write");
      if (o.checkpoint_every > 0) o.checkpoint_dir = out_dir / "checkpoint";

      std::cout << "training " << config.architecture() << ": " << config.parameter_count() << " parameters ("
                << config.num_hidden_layers << " layers, hidden " << config.hidden_size << ", heads "
                << config.num_attention_heads << "/" << config.num_key_value_heads << ", vocab " << config.vocab_size
                << ") on " << train_examples.size() << " examples, " << o.steps << " steps of " << o.batch
                << " x <= " << o.seq_len << " tokens, device " << device << std::endl;
      bool first_line = true;
      o.on_step = [&](const training::StepInfo& s) {
        log << json{{"step", s.step},
                    {"loss", s.loss},
                    {"lr", s.lr},
                    {"grad_norm", s.grad_norm},
                    {"tokens", s.tokens},
                    {"targets", s.targets},
                    {"tokens_per_second", s.tokens_per_second},
                    {"elapsed_s", s.elapsed_seconds}}
                   .dump()
            << "\n";
        log.flush();
        if (s.step % log_every == 0 || first_line || s.step == o.steps)
          std::cout << "step " << s.step << "/" << o.steps << " loss " << fmt("%.4f", s.loss) << " lr "
                    << fmt("%.3g", s.lr) << " tok/s " << fmt("%.0f", s.tokens_per_second) << " elapsed "
                    << fmt("%.1f", s.elapsed_seconds) << "s" << std::endl;
        first_line = false;
      };
      o.on_eval = [&](const training::EvalInfo& e) {
        log << json{{"step", e.step}, {"eval_loss", e.loss}, {"eval_targets", e.targets}}.dump() << "\n";
        log.flush();
        std::cout << "eval step " << e.step << " loss " << fmt("%.4f", e.loss) << std::endl;
      };
      auto result = training::train(*model, train_examples, eval_examples, o);
      model->save_hf(out_dir, dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32,
                     {{"steps", std::to_string(result.last_step)}});
      if (!tokenizer_dir.empty()) {
        for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
          const auto from = std::filesystem::path(tokenizer_dir) / f;
          if (std::filesystem::exists(from))
            std::filesystem::copy_file(from, out_dir / f, std::filesystem::copy_options::overwrite_existing);
        }
      }
      std::string summary = "trained " + out + ": " + std::to_string(config.parameter_count()) + " parameters, steps " +
                            std::to_string(result.first_step) + "-" + std::to_string(result.last_step) +
                            " (stopped: " + result.stop_reason + "), final loss " + fmt("%.4f", result.last_loss);
      if (result.last_eval_loss) summary += ", eval loss " + fmt("%.4f", *result.last_eval_loss);
      summary += ", " + std::to_string(result.tokens) + " tokens in " + fmt("%.1f", result.seconds) + " s (" +
                 fmt("%.0f", result.seconds > 0 ? static_cast<double>(result.tokens) / result.seconds : 0.0) +
                 " tok/s), " + dtype;
      std::cout << summary << std::endl;
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(train_model, 61, install_train_model);

}  // namespace chorus::cli
