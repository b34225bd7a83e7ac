#pragma once
// The "openai" LLM provider: any OpenAI-compatible chat completions server (OpenAI, vLLM, llama.cpp server,
// Ollama) over libcurl, streamed with server-sent events by default.
//
// Settings (llm: {provider: openai, ...}; see agents/openai-settings.h): base_url, model (required),
// api_key_env, temperature, top_p, max_tokens, seed, stop, timeout_s, max_retries, retry_base_s, retry_cap_s,
// stream, extra_headers, organization. A request's own temperature/max_tokens/stop/seed win over the settings.
//
// Retries: 408, 409, 429 and 5xx answers, timeouts, dropped connections and streams that end before a
// finish_reason or [DONE] are retried (the whole request again) up to max_retries times, after the server's
// Retry-After / retry-after-ms (up to 60 s) or else retry_base_s doubling per retry up to retry_cap_s. Other
// 4xx answers fail at once with the status and the server's error message. LlmRequest::cancel aborts the
// transfer or the wait before a retry at once (a non-retryable LlmError).
// Streaming caveat: text already passed to on_delta by an attempt that then fails cannot be taken back; the
// retried attempt streams its text from the start again, and only its text makes up the response. Without
// streaming (stream: false, or a server that answers with one JSON body) on_delta gets the whole text once.
#include "agents/llm.h"
#include "agents/openai-settings.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace chorus::agents {

class OpenAiProvider final : public LlmProvider {
 public:
  explicit OpenAiProvider(OpenAiSettings settings);
  // POSTs {base_url}/chat/completions (retrying as above); throws LlmError naming the server, the status and
  // the fix. Safe to call from several threads at once.
  LlmResponse complete(const LlmRequest& request, const LlmDeltaCallback& on_delta = {}) override;
  // "openai:<model>".
  std::string describe() const override;
  // The validated settings.
  const OpenAiSettings& settings() const { return settings_; }

 private:
  OpenAiSettings settings_;
};

// The provider for `llm: {provider: openai, ...}`; throws std::invalid_argument for bad settings.
std::unique_ptr<LlmProvider> make_openai_provider(const nlohmann::json& settings, const std::string& base_dir);

}  // namespace chorus::agents
