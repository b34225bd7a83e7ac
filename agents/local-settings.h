#pragma once
// The `llm:` settings of the local provider (the in-process inference engine), validated.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace chorus::agents {

// KV-cache compression: prefill compression (keep_ratio) and/or decode-time streaming eviction (cap + window).
struct LocalKvSettings {
  std::string method;                 // a registered press name, canonical (knorm, qfilters, streaming_llm, ...)
  std::optional<double> keep_ratio;   // prefill compression: fraction of the prompt's entries kept, in (0, 1]
  std::optional<int64_t> cap;         // streaming eviction: most entries per layer and KV head
  std::optional<int64_t> window;      // newest entries always kept
  std::optional<int64_t> sinks;       // oldest entries always kept (attention sinks)
  std::filesystem::path filters;      // qfilters: the filters file (default MODEL/q_filters.safetensors)
};

struct LocalSettings {
  std::string model;                  // as written (for describe())
  std::filesystem::path model_dir;    // resolved against base_dir
  double temperature = 0;             // 0 = greedy
  double top_p = 1;
  int64_t top_k = 0;
  int max_tokens = 512;
  std::optional<uint64_t> seed;
  std::string device = "cpu";         // cpu | cuda | cuda:N
  std::string dtype;                  // float32 | bfloat16 | float16; "" = float32 on CPU, bfloat16 on CUDA
  std::optional<int> threads;         // libtorch intra-op threads (process-wide)
  std::optional<LocalKvSettings> kv;
  // With tools offered, a <tool_call> block may only continue as a call of an offered tool that fits its schema
  // (inference/tool-call-constraint.h); false: the model writes calls unguided.
  bool constrain_tool_calls = true;
};

// Reads {provider: local, model, temperature, ...}; throws std::invalid_argument naming `llm.<key>` and the fix
// for a missing model or model directory, a value of the wrong type or range, or an unknown key.
LocalSettings parse_local_settings(const nlohmann::json& settings, const std::string& base_dir);

}  // namespace chorus::agents
