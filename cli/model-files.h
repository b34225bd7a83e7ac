#pragma once
// Loading the text side of a model directory for the CLI: tokenizer.json and the chat template.
#include "inference/chat-template.h"
#include "inference/tokenizer-config.h"
#include "inference/tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace chorus::cli {

// dir/tokenizer.json; throws with a message naming the file when it is missing or malformed.
inference::Tokenizer load_tokenizer(const std::filesystem::path& dir);
// The chat template of dir (tokenizer_config.json or chat_template.jinja) with its bos/eos tokens.
inference::ChatTemplate load_chat_template(const std::filesystem::path& dir);
// Reads a JSON file; throws naming the file and the parse error.
nlohmann::ordered_json read_json_file(const std::filesystem::path& path);
// Renders {"messages", "tools", "add_generation_prompt", ...extra variables} with the model's template.
std::string render_chat(const std::filesystem::path& model_dir, const nlohmann::ordered_json& input,
                        bool default_generation_prompt);

}  // namespace chorus::cli
