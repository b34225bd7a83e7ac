#include "runtime/event-summary.h"

namespace chorus::runtime {

std::string one_line(const std::string& text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars + 3));
  bool last_space = false;
  for (char c : text) {
    bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (last_space || out.empty())) continue;
    out.push_back(space ? ' ' : c);
    last_space = space;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() <= max_chars) return out;
  std::size_t cut = max_chars;
  // Do not split a UTF-8 sequence: step back over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
  return out;
}

std::string summarize_json(const nlohmann::json& value, std::size_t max_chars) {
  if (value.is_string()) return one_line(value.get<std::string>(), max_chars);
  if (value.is_object()) {
    // A chat request: its last message.
    if (auto messages = value.find("messages"); messages != value.end() && messages->is_array() && !messages->empty())
      return summarize_json(messages->back(), max_chars);
    // A tool call: name(arguments).
    if (auto name = value.find("name"); name != value.end() && name->is_string()) {
      std::string text = name->get<std::string>();
      if (auto args = value.find("arguments_text"); args != value.end() && args->is_string())
        text.append(" ").append(args->get<std::string>());
      else if (auto arguments = value.find("arguments"); arguments != value.end())
        text.append(" ").append(arguments->is_string() ? arguments->get<std::string>() : arguments->dump());
      return one_line(text, max_chars);
    }
    // A reply: its text, else the tools it calls.
    if (auto content = value.find("content"); content != value.end() && content->is_string() &&
                                              !content->get<std::string>().empty())
      return one_line(content->get<std::string>(), max_chars);
    if (auto calls = value.find("tool_calls"); calls != value.end() && calls->is_array() && !calls->empty()) {
      std::string text = "calls";
      for (const auto& call : *calls)
        if (call.is_object() && call.contains("name") && call["name"].is_string())
          text.append(" ").append(call["name"].get<std::string>());
      return one_line(text, max_chars);
    }
    if (auto output = value.find("output"); output != value.end()) return summarize_json(*output, max_chars);
  }
  return one_line(value.dump(), max_chars);
}

}  // namespace chorus::runtime
