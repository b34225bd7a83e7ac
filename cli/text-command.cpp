// chorus tokenize | detokenize | chat-template: the text side of a model directory.
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/model-files.h"

#include <iostream>

namespace chorus::cli {
namespace {

void install_text_commands(CLI::App& root) {
  static std::string tok_dir, tok_text;
  static bool tok_special = false;
  auto* tokenize = root.add_subcommand("tokenize", "Print {\"ids\": [...]} for a text with the model's tokenizer.json");
  tokenize->add_option("--model", tok_dir, "Model directory")->required();
  tokenize->add_option("--text", tok_text, "Text to encode")->required();
  tokenize->add_flag("--add-special", tok_special, "Apply the post-processor (e.g. prepend BOS)");
  tokenize->callback([] {
    run_reporting_errors("tokenize", [] {
      auto ids = load_tokenizer(tok_dir).encode(tok_text, tok_special);
      std::cout << nlohmann::json{{"ids", ids}}.dump() << "\n";
    });
  });

  static std::string detok_dir, detok_ids;
  static bool detok_skip = false;
  auto* detokenize = root.add_subcommand("detokenize", "Print the text of token ids");
  detokenize->add_option("--model", detok_dir, "Model directory")->required();
  detokenize->add_option("--ids", detok_ids, "Comma-separated token ids")->required();
  detokenize->add_flag("--skip-special", detok_skip, "Leave out special tokens");
  detokenize->callback([] {
    run_reporting_errors("detokenize", [] {
      auto ids64 = parse_ids(detok_ids, "--ids");
      auto tokenizer = load_tokenizer(detok_dir);
      std::vector<int32_t> ids;
      for (auto id : ids64) {
        if (id >= tokenizer.id_end())
          throw std::invalid_argument("--ids: " + std::to_string(id) + " is not a token id of this tokenizer (ids end at " +
                                      std::to_string(tokenizer.id_end() - 1) + ")");
        ids.push_back(static_cast<int32_t>(id));
      }
      std::cout << tokenizer.decode(ids, detok_skip);
    });
  });

  static std::string ct_dir, ct_input;
  auto* chat = root.add_subcommand(
      "chat-template", "Render the model's chat template for {\"messages\", \"tools\", \"add_generation_prompt\"}");
  chat->add_option("--model", ct_dir, "Model directory")->required();
  chat->add_option("--input", ct_input, "JSON file with messages, tools, add_generation_prompt (and other variables)")
      ->required();
  chat->callback([] {
    run_reporting_errors("chat-template",
                         [] { std::cout << render_chat(ct_dir, read_json_file(ct_input), /*default=*/false); });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(text, 31, install_text_commands);

}  // namespace chorus::cli
