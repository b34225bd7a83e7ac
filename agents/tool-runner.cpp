#include "agents/tool-runner.h"

#include "agents/model-call.h"
#include "runtime/effect-journal.h"
#include "tools/text-util.h"

#include <algorithm>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace chorus::agents {
namespace {

// Serializes a journal for the concurrent tool calls of one response.
class LockedJournal final : public runtime::EffectJournal {
 public:
  explicit LockedJournal(runtime::EffectJournal& inner) : inner_(inner) {}
  std::optional<nlohmann::json> lookup(const std::string& key) override {
    std::lock_guard lock(mutex_);
    return inner_.lookup(key);
  }
  void record(const runtime::EffectRecord& record) override {
    std::lock_guard lock(mutex_);
    inner_.record(record);
  }
  bool replaying() const override { return inner_.replaying(); }

 private:
  runtime::EffectJournal& inner_;
  std::mutex mutex_;
};

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string tool_message_content(const nlohmann::json& result, const std::string& tool) {
  std::string status = result.value("status", "failed");
  if (status == "ok") return result.contains("result") ? result["result"].dump() : "null";
  std::string error = result.value("error", "the tool failed");
  if (status == "invalid_arguments")
    return "Error: invalid arguments for tool '" + tool + "': " + error +
           ". Call it again with a JSON object matching its parameters.";
  return "Error (" + status + "): " + error;
}

std::vector<ChatMessage> run_tool_calls(const std::vector<LlmToolCall>& calls,
                                        const std::vector<std::string>& allowed,
                                        const tools::ToolRegistry& registry, runtime::AgentContext& context,
                                        const std::string& agent, std::vector<ToolCallOutcome>* outcomes) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < calls.size(); ++i) keys.push_back(context.next_effect_key("tool"));
  std::optional<LockedJournal> locked;
  if (context.journal()) locked.emplace(*context.journal());
  runtime::EffectJournal* journal = locked ? &*locked : nullptr;

  std::vector<ToolCallOutcome> outcome(calls.size());
  auto run_one = [&](size_t i) -> std::string {
    const LlmToolCall& call = calls[i];
    outcome[i].name = call.name;
    if (!contains(allowed, call.name)) {
      outcome[i].status = "unknown_tool";
      return "Error: unknown tool '" + call.name + "'; available tools: " +
             (allowed.empty() ? std::string("none (answer without tools)") : tools::join(allowed));
    }
    nlohmann::json request{{"name", call.name}, {"arguments_text", call.arguments_text}};
    nlohmann::json result = runtime::run_once(journal, keys[i], "tool", request, [&] {
      check_stop(context, agent);  // a running tool is not interrupted, but none starts after a stop request
      return registry.call_text(call.name, call.arguments_text).to_json();
    });
    outcome[i].status = result.value("status", "failed");
    outcome[i].elapsed_ms = result.value("elapsed_ms", 0.0);
    return tool_message_content(result, call.name);
  };

  std::vector<std::string> contents(calls.size());
  if (calls.size() == 1) {
    contents[0] = run_one(0);
  } else {
    std::vector<std::future<std::string>> running;
    for (size_t i = 0; i < calls.size(); ++i) running.push_back(std::async(std::launch::async, run_one, i));
    std::exception_ptr first_error;
    for (size_t i = 0; i < running.size(); ++i) {
      try {
        contents[i] = running[i].get();
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (first_error) std::rethrow_exception(first_error);
  }
  std::vector<ChatMessage> messages;
  for (size_t i = 0; i < calls.size(); ++i) {
    ChatMessage m = chat_message("tool", std::move(contents[i]));
    m.tool_call_id = calls[i].id;
    m.name = calls[i].name;
    messages.push_back(std::move(m));
  }
  if (outcomes) outcomes->insert(outcomes->end(), outcome.begin(), outcome.end());
  return messages;
}

std::vector<std::string> resolve_tool_names(const nlohmann::json& names, const tools::ToolRegistry& registry,
                                            const std::string& agent) {
  std::vector<std::string> resolved;
  if (names.is_null()) return resolved;
  if (!names.is_array()) throw std::invalid_argument("agent '" + agent + "': `tools` must be a list");
  for (const auto& name : names) {
    if (!name.is_string()) throw std::invalid_argument("agent '" + agent + "': each tool must be a name");
    const std::string tool = name.get<std::string>();
    if (!registry.find(tool)) {
      std::vector<std::string> available;
      for (const auto* t : registry.list()) available.push_back(t->spec.name);
      throw std::invalid_argument("agent '" + agent + "': unknown tool '" + tool + "'; available tools: " +
                                  (available.empty() ? std::string("(none)") : tools::join(available)));
    }
    if (!contains(resolved, tool)) resolved.push_back(tool);
  }
  return resolved;
}

}  // namespace chorus::agents
