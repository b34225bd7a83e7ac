#include "agents/llm.h"

#include "agents/openai-provider.h"

#if __has_include("agents/scripted-provider.h")
#include "agents/scripted-provider.h"
#define CHORUS_HAS_SCRIPTED_PROVIDER 1
#endif
#if __has_include("agents/local-provider.h")
#include "agents/local-provider.h"
#define CHORUS_HAS_LOCAL_PROVIDER 1
#endif

#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace chorus::agents {

namespace {

using nlohmann::json;

json call_json(const LlmToolCall& call) {
  return {{"id", call.id}, {"name", call.name}, {"arguments", call.arguments_text}};
}

[[noreturn]] void bad(const std::string& field, const std::string& why, const json& value) {
  throw std::invalid_argument("response." + field + " " + why + " (got " + value.dump() + ")");
}

std::string optional_string(const json& object, const char* key, const std::string& field) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) bad(field, "must be a string", *it);
  return it->get<std::string>();
}

long long optional_count(const json& object, const char* key, const std::string& field) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<long long>() < 0) bad(field, "must be a whole number >= 0", *it);
  return it->get<long long>();
}

// {id, name, arguments} (arguments an object or its raw text), or OpenAI's {id, function: {name, arguments}}.
LlmToolCall call_from_json(const json& j, std::size_t index) {
  const std::string field = "tool_calls[" + std::to_string(index) + "]";
  if (!j.is_object()) bad(field, "must be an object {name, arguments, id}", j);
  const json& source = j.contains("function") && j["function"].is_object() ? j["function"] : j;
  LlmToolCall call;
  call.id = optional_string(j, "id", field + ".id");
  if (call.id.empty()) call.id = "call_" + std::to_string(index + 1);
  call.name = optional_string(source, "name", field + ".name");
  if (call.name.empty()) bad(field + ".name", "is required", j);
  if (auto args = source.find("arguments"); args != source.end() && !args->is_null())
    call.arguments_text = args->is_string() ? args->get<std::string>() : args->dump();
  return call;
}

}  // namespace

json to_json(const ChatMessage& message) {
  json out = {{"role", message.role}, {"content", message.content}};
  if (!message.tool_calls.empty()) {
    json calls = json::array();
    for (const LlmToolCall& call : message.tool_calls) calls.push_back(call_json(call));
    out["tool_calls"] = std::move(calls);
  }
  if (!message.tool_call_id.empty()) out["tool_call_id"] = message.tool_call_id;
  if (!message.name.empty()) out["name"] = message.name;
  return out;
}

LlmError llm_cancelled_error(const std::string& where) {
  return LlmError(where + ": cancelled: the step's deadline passed or the run was cancelled", false);
}

bool sleep_unless_cancelled(const std::stop_token& cancel, std::chrono::duration<double> duration) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  using Clock = std::chrono::steady_clock;
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(duration);
  wake.wait_until(lock, cancel, until, [] { return false; });  // returns at the deadline or the stop request
  return !cancel.stop_requested();
}

json to_json(const LlmRequest& request) {
  json messages = json::array();
  for (const ChatMessage& m : request.messages) messages.push_back(to_json(m));
  json out = {{"messages", std::move(messages)}};
  if (request.tools.is_array() && !request.tools.empty()) out["tools"] = request.tools;
  if (!request.tool_choice.empty()) out["tool_choice"] = request.tool_choice;
  if (request.temperature) out["temperature"] = *request.temperature;
  if (request.max_tokens) out["max_tokens"] = *request.max_tokens;
  if (!request.stop.empty()) out["stop"] = request.stop;
  if (request.seed) out["seed"] = *request.seed;
  return out;
}

json to_json(const LlmResponse& response) {
  json calls = json::array();
  for (const LlmToolCall& call : response.tool_calls) calls.push_back(call_json(call));
  return {{"content", response.content},
          {"tool_calls", std::move(calls)},
          {"finish_reason", response.finish_reason},
          {"usage",
           {{"prompt_tokens", response.usage.prompt_tokens}, {"completion_tokens", response.usage.completion_tokens}}},
          {"model", response.model},
          {"elapsed_ms", response.elapsed_ms}};
}

ChatMessage message_from_json(const json& j) {
  if (!j.is_object()) bad("message", "must be an object {role, content}", j);
  ChatMessage m;
  m.role = optional_string(j, "role", "role");
  if (m.role.empty()) bad("role", "is required (system, user, assistant or tool)", j);
  if (auto content = j.find("content"); content != j.end() && !content->is_null())
    m.content = content->is_string() ? content->get<std::string>() : content->dump();
  if (auto calls = j.find("tool_calls"); calls != j.end() && !calls->is_null()) {
    if (!calls->is_array()) bad("tool_calls", "must be a list", *calls);
    for (std::size_t i = 0; i < calls->size(); ++i) m.tool_calls.push_back(call_from_json((*calls)[i], i));
  }
  m.tool_call_id = optional_string(j, "tool_call_id", "tool_call_id");
  m.name = optional_string(j, "name", "name");
  return m;
}

LlmResponse response_from_json(const json& j) {
  LlmResponse out;
  if (j.is_string()) {  // just the text
    out.content = j.get<std::string>();
    out.finish_reason = "stop";
    return out;
  }
  if (!j.is_object()) throw std::invalid_argument("a response must be an object {content, tool_calls, ...} (got " + j.dump() + ")");
  out.content = optional_string(j, "content", "content");
  if (auto calls = j.find("tool_calls"); calls != j.end() && !calls->is_null()) {
    if (!calls->is_array()) bad("tool_calls", "must be a list", *calls);
    for (std::size_t i = 0; i < calls->size(); ++i) out.tool_calls.push_back(call_from_json((*calls)[i], i));
  }
  out.finish_reason = optional_string(j, "finish_reason", "finish_reason");
  if (out.finish_reason.empty()) out.finish_reason = out.tool_calls.empty() ? "stop" : "tool_calls";
  if (auto usage = j.find("usage"); usage != j.end() && !usage->is_null()) {
    if (!usage->is_object()) bad("usage", "must be an object {prompt_tokens, completion_tokens}", *usage);
    out.usage.prompt_tokens = optional_count(*usage, "prompt_tokens", "usage.prompt_tokens");
    out.usage.completion_tokens = optional_count(*usage, "completion_tokens", "usage.completion_tokens");
  }
  out.model = optional_string(j, "model", "model");
  if (auto elapsed = j.find("elapsed_ms"); elapsed != j.end() && !elapsed->is_null()) {
    if (!elapsed->is_number()) bad("elapsed_ms", "must be a number", *elapsed);
    out.elapsed_ms = elapsed->get<double>();
  }
  return out;
}

std::unique_ptr<LlmProvider> make_llm_provider(const json& settings, const std::string& base_dir) {
  static const std::string kChoices = "use one of: openai, local, scripted";
  if (!settings.is_object())
    throw std::invalid_argument("llm must be a mapping such as {provider: openai, model: ...} (got " + settings.dump() +
                                ")");
  auto provider = settings.find("provider");
  if (provider == settings.end() || !provider->is_string())
    throw std::invalid_argument("llm.provider is missing; " + kChoices);
  const std::string name = provider->get<std::string>();
  if (name == "openai") return make_openai_provider(settings, base_dir);
#ifdef CHORUS_HAS_SCRIPTED_PROVIDER
  if (name == "scripted") return make_scripted_provider(settings, base_dir);
#endif
#ifdef CHORUS_HAS_LOCAL_PROVIDER
  if (name == "local") return make_local_provider(settings, base_dir);
#endif
  throw std::invalid_argument("llm.provider '" + name + "' is unknown; " + kChoices);
}

}  // namespace chorus::agents
