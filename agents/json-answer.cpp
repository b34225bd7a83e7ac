#include "agents/json-answer.h"

namespace chorus::agents {
namespace {

std::optional<nlohmann::json> parse(const std::string& text) {
  auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::optional<nlohmann::json> from_fences(const std::string& text) {
  size_t pos = 0;
  while ((pos = text.find("```", pos)) != std::string::npos) {
    size_t body = text.find('\n', pos + 3);  // skips the language tag ("json")
    if (body == std::string::npos) return std::nullopt;
    size_t end = text.find("```", body + 1);
    if (end == std::string::npos) return std::nullopt;
    if (auto value = parse(text.substr(body + 1, end - body - 1))) return value;
    pos = end + 3;
  }
  return std::nullopt;
}

// The end of the balanced {...} block starting at `open` (strings and escapes respected), or npos.
size_t block_end(const std::string& text, size_t open) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string::npos;
}

std::optional<nlohmann::json> from_braces(const std::string& text) {
  for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
    size_t end = block_end(text, open);
    if (end == std::string::npos) continue;
    if (auto value = parse(text.substr(open, end - open + 1))) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> extract_json(const std::string& text) {
  if (auto value = parse(text)) return value;
  if (auto value = from_fences(text)) return value;
  return from_braces(text);
}

}  // namespace chorus::agents
