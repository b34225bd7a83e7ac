#include "agents/openai-wire.h"

#include <stdexcept>

namespace chorus::agents {

namespace {

using nlohmann::json;

json wire_message(const ChatMessage& m) {
  json out = {{"role", m.role}};
  if (m.role == "assistant" && !m.tool_calls.empty()) {
    out["content"] = m.content.empty() ? json(nullptr) : json(m.content);
    json calls = json::array();
    for (const LlmToolCall& call : m.tool_calls)
      calls.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments_text.empty() ? "{}" : call.arguments_text}}}});
    out["tool_calls"] = std::move(calls);
  } else {
    out["content"] = m.content;
  }
  if (m.role == "tool") out["tool_call_id"] = m.tool_call_id;
  return out;
}

// Tools in OpenAI's {type: function, function: {...}} shape; a bare {name, parameters} is wrapped.
json wire_tools(const json& tools) {
  json out = json::array();
  for (const json& tool : tools) {
    if (tool.is_object() && !tool.contains("type") && tool.contains("name"))
      out.push_back({{"type", "function"}, {"function", tool}});
    else
      out.push_back(tool);
  }
  return out;
}

std::string arguments_text(const json& arguments) {
  if (arguments.is_string()) return arguments.get<std::string>();
  if (arguments.is_null()) return "";
  return arguments.dump();
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

LlmUsage usage_of(const json& usage) {
  LlmUsage out;
  if (!usage.is_object()) return out;
  if (auto it = usage.find("prompt_tokens"); it != usage.end() && it->is_number()) out.prompt_tokens = it->get<long long>();
  if (auto it = usage.find("completion_tokens"); it != usage.end() && it->is_number())
    out.completion_tokens = it->get<long long>();
  return out;
}

// stop | length | tool_calls: "function_call" and a "stop" that came with calls (llama.cpp, Ollama) become
// tool_calls; an absent reason is derived from what arrived; others (content_filter) pass through.
std::string normalised_finish(const std::string& reason, bool has_calls) {
  if (reason == "function_call" || (has_calls && (reason.empty() || reason == "stop"))) return "tool_calls";
  if (reason.empty()) return "stop";
  return reason;
}

void name_missing_ids(std::vector<LlmToolCall>& calls) {
  for (std::size_t i = 0; i < calls.size(); ++i)
    if (calls[i].id.empty()) calls[i].id = "call_" + std::to_string(i + 1);
}

}  // namespace

json openai_request_body(const LlmRequest& request, const OpenAiSettings& settings, bool stream) {
  json body = {{"model", settings.model}};
  json messages = json::array();
  for (const ChatMessage& m : request.messages) messages.push_back(wire_message(m));
  body["messages"] = std::move(messages);
  if (request.tools.is_array() && !request.tools.empty()) body["tools"] = wire_tools(request.tools);
  if (!request.tool_choice.empty()) body["tool_choice"] = request.tool_choice;
  if (const auto t = request.temperature ? request.temperature : settings.temperature) body["temperature"] = *t;
  if (settings.top_p) body["top_p"] = *settings.top_p;
  if (const auto n = request.max_tokens ? request.max_tokens : settings.max_tokens) body["max_tokens"] = *n;
  if (const auto seed = request.seed ? request.seed : settings.seed) body["seed"] = *seed;
  if (const auto& stop = request.stop.empty() ? settings.stop : request.stop; !stop.empty()) body["stop"] = stop;
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
  }
  return body;
}

LlmResponse parse_openai_completion(const json& body) {
  if (!body.is_object()) throw std::runtime_error("the body is not a JSON object");
  if (body.contains("error") && !body["error"].is_null())
    throw std::runtime_error("the server reported an error: " + openai_error_message(body.dump()));
  auto choices = body.find("choices");
  if (choices == body.end() || !choices->is_array() || choices->empty() || !(*choices)[0].is_object())
    throw std::runtime_error("the body has no choices[0] (not a chat completion)");
  const json& choice = (*choices)[0];
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    throw std::runtime_error("choices[0] has no message object (not a chat completion)");
  LlmResponse out;
  out.content = string_field(*message, "content");
  if (auto calls = message->find("tool_calls"); calls != message->end() && calls->is_array()) {
    for (const json& call : *calls) {
      if (!call.is_object()) throw std::runtime_error("choices[0].message.tool_calls holds a non-object");
      const json function = call.value("function", json::object());
      LlmToolCall c;
      c.id = string_field(call, "id");
      c.name = string_field(function, "name");
      if (c.name.empty()) throw std::runtime_error("a tool call in choices[0].message.tool_calls has no function.name");
      c.arguments_text = arguments_text(function.is_object() ? function.value("arguments", json()) : json());
      out.tool_calls.push_back(std::move(c));
    }
  }
  name_missing_ids(out.tool_calls);
  out.finish_reason = normalised_finish(string_field(choice, "finish_reason"), !out.tool_calls.empty());
  out.usage = usage_of(body.value("usage", json()));
  out.model = string_field(body, "model");
  return out;
}

std::string openai_error_message(const std::string& body) {
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    if (auto error = parsed.find("error"); error != parsed.end()) {
      if (error->is_string()) return error->get<std::string>();
      if (const std::string message = string_field(*error, "message"); !message.empty()) return message;
      if (!error->is_null()) return error->dump();
    }
    if (const std::string message = string_field(parsed, "message"); !message.empty()) return message;
    if (const std::string detail = string_field(parsed, "detail"); !detail.empty()) return detail;
  }
  std::string text = body;
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  constexpr std::size_t kLimit = 300;
  if (text.size() > kLimit) text = text.substr(0, kLimit) + "...";
  return text;
}

LlmToolCall& OpenAiStreamAssembler::call_for(const json& delta) {
  long long index = -1;
  if (auto it = delta.find("index"); it != delta.end() && it->is_number_integer()) index = it->get<long long>();
  if (index < 0) {
    // No index (some servers): a new id starts a new call, anything else continues the last one.
    const std::string id = string_field(delta, "id");
    const bool new_call = calls_.empty() || (!id.empty() && calls_.rbegin()->second.id != id);
    index = new_call ? (calls_.empty() ? 0 : calls_.rbegin()->first + 1) : last_index_;
  }
  last_index_ = index;
  return calls_[index];
}

void OpenAiStreamAssembler::add_chunk(const json& chunk, const LlmDeltaCallback& on_delta) {
  if (!chunk.is_object()) throw std::runtime_error("a stream chunk is not a JSON object: " + chunk.dump());
  if (chunk.contains("error") && !chunk["error"].is_null())
    throw std::runtime_error("the server reported an error mid-stream: " + openai_error_message(chunk.dump()));
  if (const std::string model = string_field(chunk, "model"); !model.empty()) model_ = model;
  if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) usage_ = usage_of(*usage);
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array()) return;
  for (const json& choice : *choices) {
    if (!choice.is_object()) continue;
    if (auto index = choice.find("index"); index != choice.end() && index->is_number_integer() && *index != 0)
      continue;  // only the first choice is used
    if (const std::string reason = string_field(choice, "finish_reason"); !reason.empty()) finish_reason_ = reason;
    auto delta = choice.find("delta");
    if (delta == choice.end() || !delta->is_object()) continue;
    if (const std::string piece = string_field(*delta, "content"); !piece.empty()) {
      content_ += piece;
      if (on_delta) on_delta(piece);
    }
    auto calls = delta->find("tool_calls");
    if (calls == delta->end() || !calls->is_array()) continue;
    for (const json& call_delta : *calls) {
      if (!call_delta.is_object()) continue;
      LlmToolCall& call = call_for(call_delta);
      if (const std::string id = string_field(call_delta, "id"); !id.empty() && call.id.empty()) call.id = id;
      const json function = call_delta.value("function", json::object());
      if (const std::string name = string_field(function, "name"); !name.empty() && name != call.name)
        call.name += name;  // normally sent once; a repeat of the whole name is ignored
      if (function.is_object() && function.contains("arguments"))
        call.arguments_text += arguments_text(function["arguments"]);
    }
  }
}

LlmResponse OpenAiStreamAssembler::result() const {
  LlmResponse out;
  out.content = content_;
  for (const auto& [index, call] : calls_) out.tool_calls.push_back(call);
  name_missing_ids(out.tool_calls);
  out.finish_reason = normalised_finish(finish_reason_, !out.tool_calls.empty());
  out.usage = usage_;
  out.model = model_;
  return out;
}

}  // namespace chorus::agents
