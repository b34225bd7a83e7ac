#include "agents/scripted-provider.h"

#include <chrono>
#include "tools/text-util.h"
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chorus::agents {
namespace {

const char* kPrefix = "scripted provider: ";

using tools::join;

// Throws when `object` has a key outside `allowed`, naming every unknown key.
void reject_unknown_keys(const nlohmann::json& object, const std::vector<std::string>& allowed,
                         const std::string& where) {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (!known) unknown.push_back("'" + key + "'");
  }
  if (!unknown.empty())
    throw std::invalid_argument(kPrefix + where + ": unknown key" + (unknown.size() > 1 ? "s " : " ") +
                                join(unknown) + " (allowed: " + join(allowed) + ")");
}

// A response as an object with every field checked; a plain string becomes {"content": text}.
nlohmann::json normalize_response(const nlohmann::json& response, const std::string& where) {
  if (response.is_string()) return nlohmann::json{{"content", response}};
  if (!response.is_object())
    throw std::invalid_argument(kPrefix + where +
                                ": a response is a string or an object with \"content\", "
                                "\"tool_calls\", \"delay_ms\", \"usage\", \"error\" or \"finish_reason\"");
  reject_unknown_keys(response, {"content", "tool_calls", "delay_ms", "usage", "error", "finish_reason"},
                      where);
  for (const char* key : {"content", "error", "finish_reason"})
    if (response.contains(key) && !response[key].is_string())
      throw std::invalid_argument(kPrefix + where + "." + key + ": must be a string");
  if (response.contains("delay_ms") &&
      !(response["delay_ms"].is_number() && response["delay_ms"].get<double>() >= 0))
    throw std::invalid_argument(kPrefix + where + ".delay_ms: must be a number of milliseconds >= 0");
  if (response.contains("usage")) {
    const auto& usage = response["usage"];
    if (!usage.is_object())
      throw std::invalid_argument(kPrefix + where + ".usage: must be {prompt_tokens, completion_tokens}");
    reject_unknown_keys(usage, {"prompt_tokens", "completion_tokens"}, where + ".usage");
    for (const auto& [key, value] : usage.items())
      if (!value.is_number_integer() || value.get<long long>() < 0)
        throw std::invalid_argument(kPrefix + where + ".usage." + key + ": must be an integer >= 0");
  }
  if (response.contains("tool_calls")) {
    const auto& calls = response["tool_calls"];
    if (!calls.is_array())
      throw std::invalid_argument(kPrefix + where + ".tool_calls: must be a list of {name, arguments}");
    for (size_t i = 0; i < calls.size(); ++i) {
      std::string at = where + ".tool_calls[" + std::to_string(i) + "]";
      const auto& call = calls[i];
      if (!call.is_object() || !call.contains("name") || !call["name"].is_string())
        throw std::invalid_argument(kPrefix + at + ": a tool call needs a string \"name\"");
      reject_unknown_keys(call, {"name", "arguments", "id"}, at);
      if (call.contains("id") && !call["id"].is_string())
        throw std::invalid_argument(kPrefix + at + ".id: must be a string");
      if (call.contains("arguments") && !call["arguments"].is_object() && !call["arguments"].is_string())
        throw std::invalid_argument(
            kPrefix + at + ".arguments: must be an object, or a string sent as is (e.g. malformed JSON)");
    }
  }
  return response;
}

std::vector<nlohmann::json> normalize_list(const nlohmann::json& list, const std::string& where) {
  if (!list.is_array()) throw std::invalid_argument(kPrefix + where + ": must be a list of responses");
  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(normalize_response(list[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::invalid_argument(std::string(kPrefix) + "cannot read file '" + path + "' (settings `file`)");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw std::invalid_argument(std::string(kPrefix) + "file '" + path + "' is not valid JSON: " + e.what());
  }
}

size_t message_chars(const ChatMessage& message) {
  size_t chars = message.content.size();
  for (const auto& call : message.tool_calls) chars += call.name.size() + call.arguments_text.size();
  return chars;
}

}  // namespace

ScriptedProvider::ScriptedProvider(const nlohmann::json& settings, const std::string& base_dir)
    : model_("scripted") {
  if (!settings.is_object())
    throw std::invalid_argument(std::string(kPrefix) + "the llm settings must be an object");
  reject_unknown_keys(settings, {"provider", "responses", "script", "file", "model"}, "llm");
  nlohmann::json source = settings;
  std::string where = "llm";
  if (settings.contains("file")) {
    if (!settings["file"].is_string())
      throw std::invalid_argument(std::string(kPrefix) + "llm.file: must be the path of a JSON file");
    if (settings.contains("responses") || settings.contains("script"))
      throw std::invalid_argument(std::string(kPrefix) +
                                  "llm: give `responses`/`script` either inline or in `file`, not both");
    std::filesystem::path path = settings["file"].get<std::string>();
    if (path.is_relative() && !base_dir.empty()) path = std::filesystem::path(base_dir) / path;
    where = path.string();
    source = read_json_file(where);
    if (source.is_array()) source = nlohmann::json{{"responses", source}};
    if (!source.is_object())
      throw std::invalid_argument(kPrefix + where +
                                  ": expected {responses, script, model} or a list of responses");
    reject_unknown_keys(source, {"responses", "script", "model"}, where);
  }
  if (settings.contains("model") || source.contains("model")) {
    const auto& model = settings.contains("model") ? settings["model"] : source["model"];
    if (!model.is_string()) throw std::invalid_argument(std::string(kPrefix) + "model: must be a string");
    model_ = model.get<std::string>();
  }
  if (source.contains("responses"))
    default_.responses = normalize_list(source["responses"], where + ".responses");
  if (source.contains("script")) {
    const auto& script = source["script"];
    if (!script.is_array())
      throw std::invalid_argument(kPrefix + where + ".script: must be a list of {match, responses}");
    for (size_t i = 0; i < script.size(); ++i) {
      std::string at = where + ".script[" + std::to_string(i) + "]";
      const auto& item = script[i];
      if (!item.is_object() || !item.contains("match") || !item["match"].is_string() ||
          !item.contains("responses"))
        throw std::invalid_argument(kPrefix + at + ": an entry needs a string \"match\" and \"responses\"");
      reject_unknown_keys(item, {"match", "responses"}, at);
      Entry entry;
      entry.match = item["match"].get<std::string>();
      entry.responses = normalize_list(item["responses"], at + ".responses");
      script_.push_back(std::move(entry));
    }
  }
  if (default_.responses.empty() && script_.empty())
    throw std::invalid_argument(
        std::string(kPrefix) +
        "no responses: give `responses`, `script` or `file` under the agent's llm settings");
}

const ScriptedProvider::Entry* ScriptedProvider::select(const LlmRequest& request) const {
  const ChatMessage* first_user = nullptr;
  for (const auto& message : request.messages)
    if (message.role == "user") {
      first_user = &message;
      break;
    }
  if (first_user)
    for (const auto& entry : script_)
      if (first_user->content.find(entry.match) != std::string::npos) return &entry;
  return &default_;
}

LlmResponse ScriptedProvider::complete(const LlmRequest& request, const LlmDeltaCallback& on_delta) {
  {
    std::lock_guard lock(mutex_);
    received_.push_back(request);
  }
  const Entry* entry = select(request);
  size_t turn = 0;
  for (const auto& message : request.messages) turn += message.role == "assistant" ? 1 : 0;
  if (turn >= entry->responses.size()) {
    std::string which = entry->match.empty() ? std::string("the default `responses`")
                                             : "the script entry matching '" + entry->match + "'";
    throw LlmError("scripted provider: no response for turn " + std::to_string(turn + 1) +
                       " (the script has " + std::to_string(entry->responses.size()) + "): " + which +
                       " ran out; add responses to the agent's scripted llm settings",
                   false);
  }
  const nlohmann::json& scripted = entry->responses[turn];
  auto start = std::chrono::steady_clock::now();
  if (scripted.contains("delay_ms"))
    sleep_unless_cancelled(request.cancel,
                           std::chrono::duration<double, std::milli>(scripted["delay_ms"].get<double>()));
  if (request.cancel.stop_requested()) throw llm_cancelled_error("scripted provider");
  if (scripted.contains("error")) throw LlmError(scripted["error"].get<std::string>(), false);

  LlmResponse response;
  response.content = scripted.value("content", "");
  response.model = model_;
  if (scripted.contains("tool_calls")) {
    const auto& calls = scripted["tool_calls"];
    for (size_t i = 0; i < calls.size(); ++i) {
      LlmToolCall call;
      call.id = calls[i].value("id", "call_" + std::to_string(turn + 1) + "_" + std::to_string(i + 1));
      call.name = calls[i]["name"].get<std::string>();
      const auto arguments = calls[i].value("arguments", nlohmann::json::object());
      call.arguments_text = arguments.is_string() ? arguments.get<std::string>() : arguments.dump();
      response.tool_calls.push_back(std::move(call));
    }
  }
  response.finish_reason =
      scripted.value("finish_reason", response.tool_calls.empty() ? "stop" : "tool_calls");
  size_t prompt_chars = 0;
  for (const auto& message : request.messages) prompt_chars += message_chars(message);
  size_t completion_chars = response.content.size();
  for (const auto& call : response.tool_calls)
    completion_chars += call.name.size() + call.arguments_text.size();
  response.usage.prompt_tokens = static_cast<long long>(prompt_chars / 4);
  response.usage.completion_tokens = static_cast<long long>(completion_chars / 4);
  if (scripted.contains("usage")) {
    response.usage.prompt_tokens = scripted["usage"].value("prompt_tokens", response.usage.prompt_tokens);
    response.usage.completion_tokens =
        scripted["usage"].value("completion_tokens", response.usage.completion_tokens);
  }
  if (on_delta && !response.content.empty()) on_delta(response.content);
  response.elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return response;
}

std::string ScriptedProvider::describe() const {
  return model_ == "scripted" ? "scripted" : "scripted:" + model_;
}

std::vector<LlmRequest> ScriptedProvider::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::unique_ptr<LlmProvider> make_scripted_provider(const nlohmann::json& settings,
                                                    const std::string& base_dir) {
  return std::make_unique<ScriptedProvider>(settings, base_dir);
}

}  // namespace chorus::agents
