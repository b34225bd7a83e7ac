#include "inference/tokenizer-config.h"

#include "inference/model-config.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace chorus::inference {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A special token is written either as "text" or as {"content": "text", ...}.
std::optional<std::string> token_text(const nlohmann::json& j, const char* key, const std::string& file) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw ModelError(file + ": field '" + key + "': expected a string or {\"content\": ...}");
}

}  // namespace

TokenizerConfig TokenizerConfig::load(const std::filesystem::path& dir) {
  TokenizerConfig config;
  const auto path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(path)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text(path));
    } catch (const nlohmann::json::exception& e) {
      throw ModelError(path.string() + ": not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw ModelError(path.string() + ": expected a JSON object");
    config.bos_token = token_text(j, "bos_token", path.string());
    config.eos_token = token_text(j, "eos_token", path.string());
    if (auto it = j.find("chat_template"); it != j.end() && !it->is_null()) {
      if (it->is_string()) {
        config.chat_template = it->get<std::string>();
      } else if (it->is_array()) {  // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
        for (const auto& entry : *it)
          if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template"))
            config.chat_template = entry["template"].get<std::string>();
        if (!config.chat_template)
          throw ModelError(path.string() + ": field 'chat_template': a list of templates needs one named \"default\"");
      } else {
        throw ModelError(path.string() + ": field 'chat_template': expected a string or a list of named templates");
      }
    }
  }
  if (std::filesystem::exists(dir / "chat_template.jinja")) config.chat_template = read_text(dir / "chat_template.jinja");
  return config;
}

}  // namespace chorus::inference
