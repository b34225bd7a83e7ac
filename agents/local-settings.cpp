#include "agents/local-settings.h"

#include "inference/kv-press.h"
#include "agents/llm-settings.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace chorus::agents {
namespace {

using nlohmann::json;

const std::vector<std::string_view> kKnownKeys = {"provider", "model",   "temperature", "top_p",
                                                  "top_k",    "max_tokens", "seed",      "device",
                                                  "dtype",    "threads", "kv",          "constrain_tool_calls"};
const std::vector<std::string_view> kKnownKvKeys = {"method", "keep_ratio", "cap", "window", "sinks", "filters"};

std::filesystem::path resolve(const std::string& path, const std::string& base_dir) {
  std::filesystem::path p(path);
  return p.is_absolute() || base_dir.empty() ? p : std::filesystem::path(base_dir) / p;
}

LocalKvSettings parse_kv(const json& kv, const std::filesystem::path& model_dir, const std::string& base_dir) {
  if (!kv.is_object())
    fail_setting("kv", "must be a mapping like {method: knorm, keep_ratio: 0.5} or {method: knorm, cap: 1024, window: 64}");
  reject_unknown_settings(kv, kKnownKvKeys, "local", "kv.");
  LocalKvSettings s;
  if (!kv.contains("method")) fail_setting("kv.method", "is required: a KV press name (e.g. knorm, qfilters, streaming_llm, snapkv)");
  const std::string method = setting_string(kv["method"], "kv.method");
  s.method = inference::canonical_press_name(method);
  const auto names = inference::press_names();
  if (std::find(names.begin(), names.end(), s.method) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    fail_setting("kv.method", "'" + method + "' is not a KV press (known: " + known + ")");
  }
  if (kv.contains("keep_ratio")) s.keep_ratio = setting_number(kv["keep_ratio"], "kv.keep_ratio", 0, 1, /*min_open=*/true);
  if (kv.contains("cap")) s.cap = setting_integer(kv["cap"], "kv.cap", 1, std::numeric_limits<int32_t>::max());
  if (kv.contains("window")) s.window = setting_integer(kv["window"], "kv.window", 0, std::numeric_limits<int32_t>::max());
  if (kv.contains("sinks")) s.sinks = setting_integer(kv["sinks"], "kv.sinks", 0, std::numeric_limits<int32_t>::max());
  if (!s.keep_ratio && !s.cap)
    fail_setting("kv", "needs keep_ratio (prefill compression, e.g. 0.5) or cap (+ window, sinks: streaming eviction during "
               "decoding), or both");
  if (s.cap && *s.cap <= s.window.value_or(0) + s.sinks.value_or(0))
    fail_setting("kv.cap", "(" + std::to_string(*s.cap) + ") must exceed window + sinks (" +
                       std::to_string(s.window.value_or(0) + s.sinks.value_or(0)) + ")");
  if (s.cap) {
    // Eviction while decoding can only use a press that scores entries from the cache alone.
    inference::PressOptions probe;
    probe.filters = torch::zeros({1, 1});
    probe.phi = torch::zeros({1, 1}, torch::kFloat64);
    auto press = inference::make_press(s.method, probe);
    if (press->needs_queries() || press->needs_prerope_keys())
      fail_setting("kv.method", "'" + method + "' needs " + (press->needs_queries() ? "future queries" : "pre-RoPE keys") +
                            " and cannot evict during decoding (kv.cap); use it with kv.keep_ratio only, or pick one "
                            "of knorm, qfilters, streaming_llm, random");
  }
  if (kv.contains("filters")) {
    if (s.method != "qfilters") fail_setting("kv.filters", "is only read by method qfilters (method is '" + method + "')");
    s.filters = resolve(setting_string(kv["filters"], "kv.filters"), base_dir);
  } else if (s.method == "qfilters") {
    s.filters = model_dir / "q_filters.safetensors";
  }
  if (s.method == "qfilters" && !std::filesystem::exists(s.filters))
    fail_setting("kv.filters", ": " + s.filters.string() + " does not exist; set llm.kv.filters to a Q-Filters file or make one "
                       "with `chorus calibrate qfilters --model " + model_dir.string() + "`");
  return s;
}

}  // namespace

LocalSettings parse_local_settings(const json& settings, const std::string& base_dir) {
  if (!settings.is_object()) throw std::invalid_argument("llm must be a mapping of settings (got " + settings.dump() + ")");
  reject_unknown_settings(settings, kKnownKeys, "local");
  const auto has = [&](const char* key) { return settings.contains(key) && !settings.at(key).is_null(); };
  LocalSettings s;
  if (!has("model"))
    fail_setting("model", "is required for the local provider: a Hugging Face model directory (config.json, *.safetensors, "
                  "tokenizer.json, tokenizer_config.json), relative to the workflow file");
  s.model = setting_string(settings["model"], "model");
  if (s.model.empty()) fail_setting("model", "is empty; give the model directory");
  s.model_dir = resolve(s.model, base_dir);
  if (!std::filesystem::is_directory(s.model_dir))
    fail_setting("model", ": model directory " + s.model_dir.string() + " does not exist; fix the path (relative paths are "
                  "resolved against the workflow file's folder) or download/train the model there");
  if (has("temperature")) s.temperature = setting_number(settings["temperature"], "temperature", 0, 100);
  if (has("top_p")) s.top_p = setting_number(settings["top_p"], "top_p", 0, 1, /*min_open=*/true);
  if (has("top_k")) s.top_k = setting_integer(settings["top_k"], "top_k", 0, std::numeric_limits<int32_t>::max());
  if (has("max_tokens"))
    s.max_tokens = static_cast<int>(setting_integer(settings["max_tokens"], "max_tokens", 1, 1 << 20));
  if (has("seed"))
    s.seed = static_cast<uint64_t>(setting_integer(settings["seed"], "seed", 0, std::numeric_limits<long long>::max()));
  if (has("device")) {
    s.device = setting_string(settings["device"], "device");
    const bool cuda = s.device == "cuda" ||
                      (s.device.rfind("cuda:", 0) == 0 && s.device.size() > 5 &&
                       s.device.find_first_not_of("0123456789", 5) == std::string::npos);
    if (s.device != "cpu" && !cuda) fail_setting("device", "must be cpu, cuda or cuda:N (got '" + s.device + "')");
  }
  if (has("dtype")) {
    s.dtype = setting_string(settings["dtype"], "dtype");
    if (s.dtype != "float32" && s.dtype != "bfloat16" && s.dtype != "float16")
      fail_setting("dtype", "must be float32, bfloat16 or float16 (got '" + s.dtype + "')");
  }
  if (has("threads")) s.threads = static_cast<int>(setting_integer(settings["threads"], "threads", 1, 1024));
  if (has("kv")) s.kv = parse_kv(settings["kv"], s.model_dir, base_dir);
  if (has("constrain_tool_calls")) {
    if (!settings["constrain_tool_calls"].is_boolean())
      fail_setting("constrain_tool_calls",
                   "must be true or false (got " + settings["constrain_tool_calls"].dump() + ")");
    s.constrain_tool_calls = settings["constrain_tool_calls"].get<bool>();
  }
  return s;
}

}  // namespace chorus::agents
