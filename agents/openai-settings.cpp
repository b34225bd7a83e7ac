#include "agents/openai-settings.h"

#include "tools/text-util.h"

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

[[noreturn]] void fail(const std::string& key, const std::string& why) {
  throw std::invalid_argument("llm." + key + " " + why);
}

std::string did_you_mean(const std::string& key) {
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view known : kKnownKeys)
    if (const std::size_t d = tools::edit_distance(key, known); d < best_distance) best = known, best_distance = d;
  if (best_distance <= std::max<std::size_t>(2, key.size() / 3) && best_distance < key.size())
    return "; did you mean llm." + std::string(best) + "?";
  return "";
}

std::string known_list() {
  std::string out;
  for (std::string_view k : kKnownKeys) {
    if (!out.empty()) out.append(", ");
    out.append(k);
  }
  return out;
}

std::string string_of(const json& v, const std::string& key) {
  if (!v.is_string()) fail(key, "must be a string (got " + v.dump() + ")");
  return v.get<std::string>();
}

double number_of(const json& v, const std::string& key, double min, double max) {
  if (!v.is_number()) fail(key, "must be a number (got " + v.dump() + ")");
  const double x = v.get<double>();
  if (!(x >= min && x <= max))
    fail(key, "must be between " + json(min).dump() + " and " + json(max).dump() + " (got " + v.dump() + ")");
  return x;
}

long long integer_of(const json& v, const std::string& key, long long min, long long max) {
  const bool integral = v.is_number_integer() || (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>());
  if (!integral) fail(key, "must be an integer (got " + v.dump() + ")");
  const long long x = v.is_number_unsigned() ? static_cast<long long>(std::min<unsigned long long>(
                                                   v.get<unsigned long long>(), std::numeric_limits<long long>::max()))
                                             : v.get<long long>();
  if (x < min || x > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " + v.dump() + ")");
  return x;
}

}  // namespace

OpenAiSettings parse_openai_settings(const json& settings) {
  if (!settings.is_object()) throw std::invalid_argument("llm must be a mapping of settings (got " + settings.dump() + ")");
  OpenAiSettings s;
  for (const auto& [key, value] : settings.items()) {
    bool known = false;
    for (std::string_view k : kKnownKeys) known = known || k == key;
    if (!known)
      throw std::invalid_argument("llm." + key + " is not a setting of the openai provider" + did_you_mean(key) +
                                  " (known: " + known_list() + ")");
  }
  const auto has = [&](const char* key) { return settings.contains(key) && !settings.at(key).is_null(); };
  if (!has("model") || !settings.at("model").is_string() || settings.at("model").get<std::string>().empty())
    fail("model", "is required: name the model the server serves, e.g. model: gpt-4o-mini");
  s.model = settings.at("model").get<std::string>();
  if (has("base_url")) {
    s.base_url = string_of(settings.at("base_url"), "base_url");
    if (!s.base_url.starts_with("http://") && !s.base_url.starts_with("https://"))
      fail("base_url", "must start with http:// or https:// (got '" + s.base_url + "'), e.g. http://localhost:8000/v1");
    while (s.base_url.ends_with("/")) s.base_url.pop_back();
  }
  if (has("api_key_env")) {
    s.api_key_env = string_of(settings.at("api_key_env"), "api_key_env");
    if (s.api_key_env.empty() || s.api_key_env.find_first_of(" =$") != std::string::npos)
      fail("api_key_env", "must name an environment variable, e.g. OPENAI_API_KEY (got '" + s.api_key_env +
                              "'); put the key itself in that variable, not in the workflow");
  }
  if (has("temperature")) s.temperature = number_of(settings.at("temperature"), "temperature", 0, 2);
  if (has("top_p")) s.top_p = number_of(settings.at("top_p"), "top_p", 0, 1);
  if (has("max_tokens"))
    s.max_tokens = static_cast<int>(integer_of(settings.at("max_tokens"), "max_tokens", 1, 1 << 30));
  if (has("seed"))
    s.seed = integer_of(settings.at("seed"), "seed", std::numeric_limits<long long>::min(),
                        std::numeric_limits<long long>::max());
  if (has("stop")) {
    const json& stop = settings.at("stop");
    if (stop.is_string()) {
      s.stop.push_back(stop.get<std::string>());
    } else if (stop.is_array()) {
      for (const json& item : stop) s.stop.push_back(string_of(item, "stop[]"));
    } else {
      fail("stop", "must be a string or a list of strings (got " + stop.dump() + ")");
    }
  }
  if (has("timeout_s")) s.timeout_s = number_of(settings.at("timeout_s"), "timeout_s", 0.001, 86400);
  if (has("max_retries")) s.max_retries = static_cast<int>(integer_of(settings.at("max_retries"), "max_retries", 0, 100));
  if (has("retry_base_s")) s.retry_base_s = number_of(settings.at("retry_base_s"), "retry_base_s", 0, 3600);
  if (has("retry_cap_s")) s.retry_cap_s = number_of(settings.at("retry_cap_s"), "retry_cap_s", 0, 3600);
  if (has("stream")) {
    if (!settings.at("stream").is_boolean()) fail("stream", "must be true or false (got " + settings.at("stream").dump() + ")");
    s.stream = settings.at("stream").get<bool>();
  }
  if (has("extra_headers")) {
    const json& headers = settings.at("extra_headers");
    if (!headers.is_object())
      fail("extra_headers", "must be a mapping of header names to strings (got " + headers.dump() + ")");
    for (const auto& [name, value] : headers.items()) {
      if (name.empty() || name.find_first_of(": \r\n") != std::string::npos)
        fail("extra_headers", "has an invalid header name '" + name + "'");
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      if (text.find_first_of("\r\n") != std::string::npos)
        fail("extra_headers." + name, "must not contain line breaks");
      s.extra_headers[name] = text;
    }
  }
  if (has("organization")) s.organization = string_of(settings.at("organization"), "organization");
  return s;
}

}  // namespace chorus::agents
