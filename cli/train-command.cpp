// chorus train tokenizer: byte-level BPE training to a Hugging Face tokenizer.json (training/bpe-trainer.h).
#include "cli/train-command.h"

#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "inference/tokenizer.h"
#include "training/bpe-trainer.h"
#include "training/chat-template.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {

CLI::App* train_app(CLI::App& root) {
  auto found = root.get_subcommands([](CLI::App* a) { return a->get_name() == "train"; });
  if (!found.empty()) return found.front();
  auto* train = root.add_subcommand("train", "Train the project's own model: tokenizer, curriculum data, model");
  train->require_subcommand(1);
  return train;
}

namespace {

std::string read_text_file(const std::string& path, const std::string& option) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw std::runtime_error(option + " " + path + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(option + " " + path + ": is a directory, not a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(option + " " + path + ": cannot read");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

void install_train_tokenizer(CLI::App& root) {
  static std::vector<std::string> texts, specials;
  static size_t vocab_size = 0;
  static uint64_t min_frequency = 2;
  static std::string out_dir, chat_template_file;
  static size_t max_length = 32768;
  static int digits_per_token = 1;
  auto* cmd = train_app(root)->add_subcommand(
      "tokenizer", "Train a byte-level BPE tokenizer (Qwen2 pre-tokenizer) and write DIR/tokenizer.json and "
                   "DIR/tokenizer_config.json");
  cmd->add_option("--text", texts, "Training text file (repeatable; each file is one document)")->required();
  cmd->add_option("--vocab-size", vocab_size, "Total vocabulary size, special tokens included (e.g. 4096, 8192)")
      ->required();
  cmd->add_option("--min-frequency", min_frequency, "Merge only pairs seen at least this often")
      ->capture_default_str();
  cmd->add_option("--digits-per-token", digits_per_token,
                  "Digits per number pre-token: 1 (Qwen2: one token per digit) or 3 (Llama-3: groups of up to 3 "
                  "digits, which a small model copies more easily)")
      ->check(CLI::IsMember({1, 3}))
      ->capture_default_str();
  cmd->add_option("--special", specials,
                  "Special token (repeatable; replaces the default Qwen2 list: <|endoftext|> <|im_start|> "
                  "<|im_end|> <tool_call> </tool_call> <tool_response> </tool_response>)");
  cmd->add_option("--chat-template", chat_template_file,
                  "Jinja chat template file for tokenizer_config.json (default: the Chorus template the curriculum is "
                  "rendered with, training/chat-template.h)");
  cmd->add_option("--model-max-length", max_length, "model_max_length in tokenizer_config.json")
      ->capture_default_str();
  cmd->add_option("--out", out_dir, "Output directory (created when missing)")->required();
  cmd->callback([] {
    run_reporting_errors("train tokenizer", [] {
      const auto start = std::chrono::steady_clock::now();
      training::BpeTrainerOptions options;
      options.vocab_size = vocab_size;
      options.min_frequency = min_frequency;
      options.digits_per_token = digits_per_token;
      if (!specials.empty()) options.special_tokens = specials;
      training::TokenizerConfigOptions config;
      config.model_max_length = max_length;
      config.chat_template = chat_template_file.empty() ? training::chorus_chat_template()
                                                        : read_text_file(chat_template_file, "--chat-template");
      training::BpeTrainer trainer(options);  // validates the vocab size and special tokens first

      std::vector<std::string> contents;
      for (const auto& path : texts) contents.push_back(read_text_file(path, "--text"));
      // Fail on a bad output directory before spending time on training.
      std::error_code ec;
      std::filesystem::create_directories(out_dir, ec);
      if (ec || !std::filesystem::is_directory(out_dir))
        throw std::runtime_error("--out " + out_dir + ": cannot create the output directory" +
                                 (ec ? " (" + ec.message() + ")" : std::string()));
      for (const auto& text : contents) trainer.add_text(text);
      auto result = trainer.train();
      training::write_tokenizer_files(out_dir, result, config);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

      // Compression on the training text, with the tokenizer as written.
      auto tokenizer = inference::Tokenizer::from_json(result.tokenizer_json, out_dir + "/tokenizer.json");
      uint64_t tokens = 0, bytes = 0;
      for (const auto& text : contents) {
        tokens += tokenizer.encode(text, false).size();
        bytes += text.size();
      }
      std::string line = "trained " + out_dir + "/tokenizer.json: vocab " + std::to_string(result.vocab_size) +
                         " (256 bytes + " + std::to_string(result.bpe_vocab_size - 256) + " merged + " +
                         std::to_string(result.special_tokens.size()) + " special), " +
                         std::to_string(result.merges) + " merges, " + fixed(seconds, 2) + " s, " +
                         (tokens ? fixed(static_cast<double>(bytes) / static_cast<double>(tokens), 3) : "n/a") +
                         " bytes/token on the training text (" + std::to_string(bytes) + " bytes, " +
                         std::to_string(result.word_types) + " distinct words)";
      if (!result.stopped_early.empty())
        line += "; smaller than --vocab-size " + std::to_string(vocab_size) + ": " + result.stopped_early;
      std::cout << line << "\n";
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(train_tokenizer, 60, install_train_tokenizer);

}  // namespace chorus::cli
