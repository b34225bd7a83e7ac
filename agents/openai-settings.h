#pragma once
// The `llm:` settings of the openai provider (any OpenAI-compatible chat completions server), validated.
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chorus::agents {

struct OpenAiSettings {
  std::string base_url = "https://api.openai.com/v1";  // without a trailing '/'
  std::string model;                                   // required
  std::string api_key_env;               // the variable holding the key; "" sends no Authorization header
  std::optional<double> temperature;     // defaults for requests that set none
  std::optional<double> top_p;
  std::optional<int> max_tokens;
  std::optional<long long> seed;
  std::vector<std::string> stop;
  double timeout_s = 120;                // whole request (non-streamed) or longest silence (streamed)
  int max_retries = 4;                   // extra attempts after 429, 5xx, dropped connections, cut streams
  double retry_base_s = 0.5;             // first backoff delay; doubles per retry up to retry_cap_s
  double retry_cap_s = 8;                // longest backoff delay (a server's Retry-After may ask for more)
  bool stream = true;                    // server-sent events with include_usage
  std::map<std::string, std::string> extra_headers;
  std::string organization;              // OpenAI-Organization header when not empty
};

// Reads {provider: openai, model, base_url, ...}; throws std::invalid_argument naming `llm.<key>` and the fix
// for a missing model, a value of the wrong type or range, or an unknown key (with a did-you-mean).
OpenAiSettings parse_openai_settings(const nlohmann::json& settings);

}  // namespace chorus::agents
