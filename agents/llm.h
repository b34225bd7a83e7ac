#pragma once
// LLM provider interface: chat messages and tools in; text, tool calls and usage out (optionally streamed).
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

namespace chorus::agents {

// A tool call the model asked for.
struct LlmToolCall {
  std::string id;              // provider's id, or "call_<n>" when the model gave none
  std::string name;
  std::string arguments_text;  // the arguments exactly as emitted (may be malformed JSON)
};

struct ChatMessage {
  std::string role;                     // system | user | assistant | tool
  std::string content;
  std::vector<LlmToolCall> tool_calls;  // assistant messages that call tools
  std::string tool_call_id;             // tool messages: the call answered
  std::string name;                     // tool messages: the tool's name
};

struct LlmUsage {
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
};

struct LlmRequest {
  std::vector<ChatMessage> messages;
  nlohmann::json tools = nlohmann::json::array();  // OpenAI function format
  std::string tool_choice;                         // "" (provider default) | auto | none | required
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::vector<std::string> stop;
  std::optional<long long> seed;
  // Requested when the caller gives up (deadline, cancel); providers return promptly with LlmError.
  std::stop_token cancel;
};

struct LlmResponse {
  std::string content;                  // text (with any tool-call markup removed when calls were parsed out)
  std::vector<LlmToolCall> tool_calls;
  std::string finish_reason;            // stop | length | tool_calls
  LlmUsage usage;
  std::string model;
  double elapsed_ms = 0;
};

// Streaming: called with each piece of text as it arrives.
using LlmDeltaCallback = std::function<void(const std::string& delta)>;

// A provider failure. `retryable` errors (429, 5xx, dropped connections) are retried by the provider itself first.
class LlmError : public std::runtime_error {
 public:
  LlmError(const std::string& message, bool retryable) : std::runtime_error(message), retryable_(retryable) {}
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

// The LlmError a provider throws when LlmRequest::cancel was requested: "<where>: cancelled: the step's
// deadline passed or the run was cancelled", not retryable.
LlmError llm_cancelled_error(const std::string& where);
// Waits `duration`, returning early when `cancel` is requested; true when the whole wait passed.
bool sleep_unless_cancelled(const std::stop_token& cancel, std::chrono::duration<double> duration);

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;
  // One completion; blocking; throws LlmError with a message naming the provider and the fix.
  virtual LlmResponse complete(const LlmRequest& request, const LlmDeltaCallback& on_delta = {}) = 0;
  // "openai:gpt-4o-mini", "local:models/chorus-tiny", "scripted".
  virtual std::string describe() const = 0;
};

// JSON forms (journal records, traces, the scripted provider's files); LlmRequest::cancel is not in them.
nlohmann::json to_json(const ChatMessage& message);
nlohmann::json to_json(const LlmRequest& request);
nlohmann::json to_json(const LlmResponse& response);
LlmResponse response_from_json(const nlohmann::json& j);
// An OpenAI chat message ({role, content, tool_calls: [{id, function: {name, arguments}}], tool_call_id, name});
// throws std::invalid_argument naming the bad field.
ChatMessage message_from_json(const nlohmann::json& j);

// Builds a provider from a workflow agent's `llm:` settings, e.g. {"provider": "openai", "model": ...};
// `base_dir` resolves relative paths (the workflow file's folder). Throws std::invalid_argument naming the
// field and the fix on unknown providers, unknown keys, or missing settings.
std::unique_ptr<LlmProvider> make_llm_provider(const nlohmann::json& settings, const std::string& base_dir);

}  // namespace chorus::agents
