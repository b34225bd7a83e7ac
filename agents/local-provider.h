#pragma once
// The `local` LLM provider: chat completions on the in-process inference engine (a Hugging Face model directory
// run by inference/), with the model's chat template, tool calls parsed from its output, optional KV compression.
#include "agents/llm.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace chorus::agents {

// Builds a local provider from `llm:` settings {provider: local, model: DIR, temperature, top_p, top_k,
// max_tokens, seed, device, dtype, threads, kv: {method, keep_ratio | cap, window, sinks, filters}}; relative
// paths resolve against `base_dir`. The weights load on the first completion (once per process per directory,
// device and dtype). Throws std::invalid_argument naming `llm.<key>` and the fix. LlmRequest::cancel ends a
// generation after the current token (the prompt's prefill is not interrupted).
std::unique_ptr<LlmProvider> make_local_provider(const nlohmann::json& settings, const std::string& base_dir);

}  // namespace chorus::agents
