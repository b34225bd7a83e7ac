#pragma once
// The OpenAI chat completions wire format: request bodies, whole responses, streamed chunks, error bodies.
#include "agents/llm.h"
#include "agents/openai-settings.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace chorus::agents {

// The JSON body of POST /chat/completions: model, messages (assistant tool_calls and tool messages in OpenAI's
// shape), tools and tool_choice when given, sampling options (the request's, else the settings' defaults), and
// stream + stream_options {include_usage: true} when `stream`.
nlohmann::json openai_request_body(const LlmRequest& request, const OpenAiSettings& settings, bool stream);

// The response in a non-streamed body ({choices: [{message, finish_reason}], usage, model}); throws
// std::runtime_error describing what is missing when the body is not a chat completion.
LlmResponse parse_openai_completion(const nlohmann::json& body);

// The server's explanation in an error body: error.message (OpenAI, vLLM), error (Ollama), message, or the
// start of the body when it is not JSON; "" for an empty body.
std::string openai_error_message(const std::string& body);

// Assembles a streamed completion from its chunks ({choices: [{delta, finish_reason}], usage, model}).
class OpenAiStreamAssembler {
 public:
  // Folds in one chunk: content pieces go to `on_delta` (when set) and to the content; tool-call deltas are
  // joined by index (id and name from the first, argument fragments concatenated). Throws std::runtime_error
  // on a chunk that carries an error object.
  void add_chunk(const nlohmann::json& chunk, const LlmDeltaCallback& on_delta);
  // Whether a finish_reason arrived.
  bool finished() const { return !finish_reason_.empty(); }
  // The response so far (calls in index order; finish_reason normalised as for whole responses).
  LlmResponse result() const;

 private:
  LlmToolCall& call_for(const nlohmann::json& delta);

  std::string content_;
  std::map<long long, LlmToolCall> calls_;  // by the delta's index
  long long last_index_ = -1;
  std::string finish_reason_;
  LlmUsage usage_;
  std::string model_;
};

}  // namespace chorus::agents
