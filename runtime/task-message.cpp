#include "runtime/task-message.h"

#include <stdexcept>

namespace chorus::runtime {

nlohmann::json TaskRequest::to_json() const {
  nlohmann::json context_json = nlohmann::json::array();
  for (const auto& item : context) context_json.push_back({{"task", item.task}, {"output", item.output}});
  nlohmann::json j{{"task", task},
                   {"description", description},
                   {"expected_output", expected_output},
                   {"context", std::move(context_json)},
                   {"inputs", inputs}};
  if (!output_schema.is_null()) j["output_schema"] = output_schema;
  if (tokens_left > 0) j["tokens_left"] = tokens_left;
  return j;
}

TaskRequest TaskRequest::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("description") || !j["description"].is_string())
    throw std::invalid_argument("not a task request: expected an object with a string \"description\"");
  TaskRequest r;
  r.task = j.value("task", "");
  r.description = j["description"].get<std::string>();
  r.expected_output = j.value("expected_output", "");
  r.output_schema = j.value("output_schema", nlohmann::json());
  if (j.contains("context")) {
    if (!j["context"].is_array()) throw std::invalid_argument("task request: \"context\" must be an array");
    for (const auto& item : j["context"]) {
      if (!item.is_object() || !item.contains("task"))
        throw std::invalid_argument("task request: each \"context\" item needs \"task\" and \"output\"");
      r.context.push_back({item["task"].get<std::string>(), item.value("output", nlohmann::json())});
    }
  }
  r.inputs = j.value("inputs", nlohmann::json::object());
  r.tokens_left = j.value("tokens_left", 0LL);
  return r;
}

nlohmann::json TaskReply::to_json() const {
  nlohmann::json j{{"output", output},
                   {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}},
                   {"turns", turns}};
  if (tool_calls > 0) j["tool_calls"] = tool_calls;
  if (!details.is_null()) j["details"] = details;
  return j;
}

TaskReply TaskReply::from_json(const nlohmann::json& j) {
  TaskReply r;
  if (!j.is_object() || !j.contains("output")) {
    r.output = j;
    return r;
  }
  r.output = j["output"];
  if (j.contains("usage") && j["usage"].is_object()) {
    r.prompt_tokens = j["usage"].value("prompt_tokens", 0LL);
    r.completion_tokens = j["usage"].value("completion_tokens", 0LL);
  }
  r.turns = j.value("turns", 0);
  r.tool_calls = j.value("tool_calls", 0);
  if (j.contains("details")) r.details = j["details"];
  return r;
}

}  // namespace chorus::runtime
