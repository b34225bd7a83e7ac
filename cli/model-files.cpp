#include "cli/model-files.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {

inference::Tokenizer load_tokenizer(const std::filesystem::path& dir) {
  const auto path = dir / "tokenizer.json";
  if (!std::filesystem::exists(path))
    throw std::runtime_error(path.string() + ": missing; the model directory needs a Hugging Face tokenizer.json");
  return inference::Tokenizer::from_file(path);
}

inference::ChatTemplate load_chat_template(const std::filesystem::path& dir) {
  auto config = inference::TokenizerConfig::load(dir);
  if (!config.chat_template)
    throw std::runtime_error((dir / "tokenizer_config.json").string() +
                             ": no 'chat_template' (and no chat_template.jinja); this model has no chat format");
  inference::ChatTemplateOptions options;
  options.bos_token = config.bos_token;
  options.eos_token = config.eos_token;
  try {
    return inference::ChatTemplate(*config.chat_template, options);
  } catch (const inference::TemplateError& e) {
    throw std::runtime_error((dir / "tokenizer_config.json").string() + ": chat_template: " + e.what());
  }
}

nlohmann::ordered_json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot be read");
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

std::string render_chat(const std::filesystem::path& model_dir, const nlohmann::ordered_json& input,
                        bool default_generation_prompt) {
  if (!input.is_object() || !input.contains("messages") || !input["messages"].is_array())
    throw std::runtime_error("chat input: expected {\"messages\": [...], \"tools\": [...], \"add_generation_prompt\": true}");
  auto chat_template = load_chat_template(model_dir);
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  for (const auto& [key, value] : input.items())
    if (key != "messages" && key != "tools" && key != "add_generation_prompt") extra[key] = value;
  const bool generation_prompt = input.value("add_generation_prompt", default_generation_prompt);
  return chat_template.render(input["messages"], input.value("tools", nlohmann::ordered_json()), generation_prompt,
                              extra);
}

}  // namespace chorus::cli
