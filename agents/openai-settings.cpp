#include "agents/openai-settings.h"

#include "agents/llm-settings.h"

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace chorus::agents {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 16> kKnownKeys = {
    "provider", "base_url",  "model",      "api_key_env",  "temperature", "top_p",     "max_tokens",    "seed",
    "stop",     "timeout_s", "max_retries", "retry_base_s", "stream",     "extra_headers", "organization", "retry_cap_s"};

}  // namespace

OpenAiSettings parse_openai_settings(const json& settings) {
  if (!settings.is_object()) throw std::invalid_argument("llm must be a mapping of settings (got " + settings.dump() + ")");
  OpenAiSettings s;
  reject_unknown_settings(settings, {kKnownKeys.begin(), kKnownKeys.end()}, "openai");
  const auto has = [&](const char* key) { return settings.contains(key) && !settings.at(key).is_null(); };
  if (!has("model") || !settings.at("model").is_string() || settings.at("model").get<std::string>().empty())
    fail_setting("model", "is required: name the model the server serves, e.g. model: gpt-4o-mini");
  s.model = settings.at("model").get<std::string>();
  if (has("base_url")) {
    s.base_url = setting_string(settings.at("base_url"), "base_url");
    if (!s.base_url.starts_with("http://") && !s.base_url.starts_with("https://"))
      fail_setting("base_url", "must start with http:// or https:// (got '" + s.base_url + "'), e.g. http://localhost:8000/v1");
    while (s.base_url.ends_with("/")) s.base_url.pop_back();
  }
  if (has("api_key_env")) {
    s.api_key_env = setting_string(settings.at("api_key_env"), "api_key_env");
    if (s.api_key_env.empty() || s.api_key_env.find_first_of(" =$") != std::string::npos)
      fail_setting("api_key_env", "must name an environment variable, e.g. OPENAI_API_KEY (got '" + s.api_key_env +
                              "'); put the key itself in that variable, not in the workflow");
  }
  if (has("temperature")) s.temperature = setting_number(settings.at("temperature"), "temperature", 0, 2);
  if (has("top_p")) s.top_p = setting_number(settings.at("top_p"), "top_p", 0, 1);
  if (has("max_tokens"))
    s.max_tokens = static_cast<int>(setting_integer(settings.at("max_tokens"), "max_tokens", 1, 1 << 30));
  if (has("seed"))
    s.seed = setting_integer(settings.at("seed"), "seed", std::numeric_limits<long long>::min(),
                        std::numeric_limits<long long>::max());
  if (has("stop")) {
    const json& stop = settings.at("stop");
    if (stop.is_string()) {
      s.stop.push_back(stop.get<std::string>());
    } else if (stop.is_array()) {
      for (const json& item : stop) s.stop.push_back(setting_string(item, "stop[]"));
    } else {
      fail_setting("stop", "must be a string or a list of strings (got " + stop.dump() + ")");
    }
  }
  if (has("timeout_s")) s.timeout_s = setting_number(settings.at("timeout_s"), "timeout_s", 0.001, 86400);
  if (has("max_retries")) s.max_retries = static_cast<int>(setting_integer(settings.at("max_retries"), "max_retries", 0, 100));
  if (has("retry_base_s")) s.retry_base_s = setting_number(settings.at("retry_base_s"), "retry_base_s", 0, 3600);
  if (has("retry_cap_s")) s.retry_cap_s = setting_number(settings.at("retry_cap_s"), "retry_cap_s", 0, 3600);
  if (has("stream")) {
    if (!settings.at("stream").is_boolean()) fail_setting("stream", "must be true or false (got " + settings.at("stream").dump() + ")");
    s.stream = settings.at("stream").get<bool>();
  }
  if (has("extra_headers")) {
    const json& headers = settings.at("extra_headers");
    if (!headers.is_object())
      fail_setting("extra_headers", "must be a mapping of header names to strings (got " + headers.dump() + ")");
    for (const auto& [name, value] : headers.items()) {
      if (name.empty() || name.find_first_of(": \r\n") != std::string::npos)
        fail_setting("extra_headers", "has an invalid header name '" + name + "'");
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (text.find_first_of("\r\n") != std::string::npos)
        fail_setting("extra_headers." + name, "must not contain line breaks");
      s.extra_headers[name] = text;
    }
  }
  if (has("organization")) s.organization = setting_string(settings.at("organization"), "organization");
  return s;
}

}  // namespace chorus::agents
