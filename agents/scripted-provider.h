#pragma once
// The "scripted" LLM provider: replays canned responses instead of calling a model (tests and demos only).
//
// Settings ({provider: scripted, ...}; unknown keys are rejected by name):
//   responses: [response, ...]                      used when no script entry matches
//   script: [{match: "text", responses: [...]}]     the first entry whose `match` occurs in the first user
//                                                   message wins
//   file: PATH                                      a JSON file holding {responses, script, model} (or just
//   the
//                                                   responses array); relative to the workflow's folder
//   model: "name"                                   reported as the response's model (default "scripted")
// A response is a string (the content) or {content, tool_calls: [{name, arguments, id}], delay_ms,
// usage: {prompt_tokens, completion_tokens}, error: "message" (thrown as LlmError), finish_reason}. A stop
// request on LlmRequest::cancel cuts delay_ms short and throws the cancellation LlmError.
// `arguments` is an object (sent as its JSON text) or a raw string (sent as is, e.g. to test malformed JSON).
//
// Turn selection is a function of the request alone, so a resumed run sees the same answers: the response
// used is the one at index = number of assistant messages already in the request. Default usage (when a
// response gives none): prompt_tokens = characters of every message's content and tool calls (name +
// arguments) / 4; completion_tokens = characters of the response's content and tool calls / 4.
#include "agents/llm.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chorus::agents {

class ScriptedProvider final : public LlmProvider {
 public:
  // Validates `settings` (and reads `file` relative to `base_dir`); throws std::invalid_argument naming the
  // field and the fix.
  ScriptedProvider(const nlohmann::json& settings, const std::string& base_dir);

  LlmResponse complete(const LlmRequest& request, const LlmDeltaCallback& on_delta = {}) override;
  // "scripted" or "scripted:<model>".
  std::string describe() const override;
  // Every request received so far, in order (for tests that check what the model was shown).
  std::vector<LlmRequest> received() const;

 private:
  struct Entry {
    std::string match;                      // empty for the default `responses`
    std::vector<nlohmann::json> responses;  // validated response objects
  };
  const Entry* select(const LlmRequest& request) const;

  std::string model_;
  std::vector<Entry> script_;
  Entry default_;
  mutable std::mutex mutex_;
  std::vector<LlmRequest> received_;
};

// The provider for `llm: {provider: scripted, ...}` (make_llm_provider dispatches here).
std::unique_ptr<LlmProvider> make_scripted_provider(const nlohmann::json& settings,
                                                    const std::string& base_dir);

}  // namespace chorus::agents
