#include "agents/tool-call-parser.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <regex>
#include <string_view>

namespace chorus::agents {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kOpen = "<tool_call>";
constexpr std::string_view kClose = "</tool_call>";
constexpr std::string_view kPythonTag = "<|python_tag|>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

std::string compact(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The index just past the JSON object or array that starts at `start` (strings and escapes respected), or npos
// when it never closes.
size_t balanced_end(std::string_view s, size_t start) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// The tool name in text that is not valid JSON, when a "name": "..." pair is still readable.
std::string guess_name(const std::string& raw) {
  static const std::regex pattern(R"re("name"\s*:\s*"([^"\\]*)")re");
  std::smatch m;
  return std::regex_search(raw, m, pattern) ? m[1].str() : std::string();
}

// Strips a Markdown code fence (```json ... ```) some models put around the call.
std::string strip_fence(const std::string& body) {
  std::string t = trim(body);
  if (t.rfind("```", 0) != 0) return t;
  const size_t line_end = t.find('\n');
  if (line_end == std::string::npos) return t;
  t = t.substr(line_end + 1);
  if (t.size() >= 3 && t.compare(t.size() - 3, 3, "```") == 0) t.resize(t.size() - 3);
  return trim(t);
}

// Reads one call object ({"name", "arguments"|"parameters"}, or OpenAI's {"type", "function": {...}}) into
// `call`; returns what is wrong when it is not a call.
std::optional<std::string> read_call(const Json& value, LlmToolCall& call) {
  if (!value.is_object()) return "expected a JSON object {\"name\": ..., \"arguments\": {...}}";
  const Json* obj = &value;
  if (value.contains("function") && value["function"].is_object() && !value.contains("name"))
    obj = &value["function"];
  if (!obj->contains("name") || !(*obj)["name"].is_string()) return "the call has no \"name\" string";
  call.name = (*obj)["name"].get<std::string>();
  const Json* args = nullptr;
  if (obj->contains("arguments")) args = &(*obj)["arguments"];
  else if (obj->contains("parameters")) args = &(*obj)["parameters"];
  if (!args || args->is_null()) {
    call.arguments_text = "{}";
  } else if (args->is_string()) {
    const auto& text = args->get_ref<const std::string&>();
    Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    call.arguments_text = parsed.is_discarded() ? text : compact(parsed);
  } else {
    call.arguments_text = compact(*args);
  }
  return std::nullopt;
}

void add_call(ParsedToolCalls& out, LlmToolCall call) {
  call.id = "call_" + std::to_string(out.calls.size());
  out.calls.push_back(std::move(call));
}

// One <tool_call> body: a call object or an array of them; anything else is an error entry.
void parse_block(const std::string& body, bool terminated, ParsedToolCalls& out) {
  const std::string text = strip_fence(body);
  auto fail = [&](const std::string& message) {
    out.errors.push_back({body, guess_name(body), message + (terminated ? "" : " (the <tool_call> block was not closed)")});
  };
  if (text.empty()) return fail("the <tool_call> block is empty");
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::exception& e) {
    return fail(std::string("not valid JSON: ") + e.what());
  }
  const bool many = value.is_array();
  if (many && value.empty()) return fail("the <tool_call> block holds an empty list");
  for (const auto& item : many ? value : Json::array({value})) {
    LlmToolCall call;
    if (auto problem = read_call(item, call)) {
      out.errors.push_back({many ? compact(item) : body, guess_name(compact(item)), *problem});
      continue;
    }
    add_call(out, std::move(call));
  }
}

ParsedToolCalls parse_hermes(const std::string& text) {
  ParsedToolCalls out;
  std::string content;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find(kOpen, pos);
    if (open == std::string::npos) {
      content += text.substr(pos);
      break;
    }
    content += text.substr(pos, open - pos);
    const size_t body = open + kOpen.size();
    const size_t close = text.find(kClose, body);
    if (close == std::string::npos) {
      parse_block(text.substr(body), /*terminated=*/false, out);
      break;
    }
    parse_block(text.substr(body, close - body), /*terminated=*/true, out);
    pos = close + kClose.size();
  }
  out.content = trim(content);
  return out;
}

// Llama 3 JSON calls: `calls` is the text after <|python_tag|> (tagged) or the whole message. Untagged text is
// only taken as calls when all of it is call objects; otherwise it stays content.
std::optional<ParsedToolCalls> parse_llama(const std::string& before, const std::string& calls, bool tagged) {
  ParsedToolCalls out;
  out.content = trim(before);
  const std::string t = trim(calls);
  size_t pos = 0;
  auto fail_rest = [&](const std::string& message) -> std::optional<ParsedToolCalls> {
    if (!tagged) return std::nullopt;
    const std::string raw = t.substr(pos);
    out.errors.push_back({raw, guess_name(raw), message});
    return out;
  };
  if (t.empty()) return fail_rest("<|python_tag|> is followed by no call");
  while (pos < t.size()) {
    if (t[pos] != '{') return fail_rest("expected a JSON call object {\"name\": ..., \"parameters\": {...}}");
    const size_t end = balanced_end(t, pos);
    if (end == std::string::npos) return fail_rest("not valid JSON: the object never closes");
    const std::string item = t.substr(pos, end - pos);
    Json value = Json::parse(item, nullptr, /*allow_exceptions=*/false);
    LlmToolCall call;
    std::optional<std::string> problem =
        value.is_discarded() ? std::optional<std::string>("not valid JSON") : read_call(value, call);
    if (!problem && !tagged && !value.contains("parameters") && !value.contains("arguments")) problem = "no parameters";
    if (problem) {
      if (!tagged) return std::nullopt;
      out.errors.push_back({item, guess_name(item), *problem});
    } else {
      add_call(out, std::move(call));
    }
    pos = end;
    while (pos < t.size() && is_space(t[pos])) ++pos;
    if (pos < t.size() && t[pos] == ';') {
      ++pos;
      while (pos < t.size() && is_space(t[pos])) ++pos;
    } else if (pos < t.size()) {
      return fail_rest("expected ';' between calls");
    }
  }
  return out;
}

}  // namespace

ParsedToolCalls parse_tool_calls(const std::string& text) {
  if (text.find(kOpen) != std::string::npos) return parse_hermes(text);
  if (const size_t tag = text.find(kPythonTag); tag != std::string::npos)
    return *parse_llama(text.substr(0, tag), text.substr(tag + kPythonTag.size()), /*tagged=*/true);
  if (trim(text).rfind('{', 0) == 0)
    if (auto parsed = parse_llama("", text, /*tagged=*/false)) return *parsed;
  ParsedToolCalls out;
  out.content = text;
  return out;
}

std::vector<LlmToolCall> calls_with_errors(ParsedToolCalls parsed) {
  std::vector<LlmToolCall> calls = std::move(parsed.calls);
  for (auto& error : parsed.errors)
    calls.push_back({"call_" + std::to_string(calls.size()), std::move(error.name), std::move(error.raw)});
  return calls;
}

}  // namespace chorus::agents
