#pragma once
// Reading a provider's `llm:` settings: typed values and unknown keys, each error naming `llm.<key>` and the fix.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace chorus::agents {

// Throws std::invalid_argument("llm.<key> <why>").
[[noreturn]] void fail_setting(const std::string& key, const std::string& why);
// Throws for the first key of `object` not in `known`, with a did-you-mean and the known keys; `prefix` is the
// path below llm. (e.g. "kv."), `provider` names the provider in the message.
void reject_unknown_settings(const nlohmann::json& object, const std::vector<std::string_view>& known,
                             const std::string& provider, const std::string& prefix = "");
// The value as text; anything else fails.
std::string setting_string(const nlohmann::json& value, const std::string& key);
// The value as a number in [min, max] (or (min, max] with min_open); anything else fails.
double setting_number(const nlohmann::json& value, const std::string& key, double min, double max,
                      bool min_open = false);
// The value as an integer in [min, max] (2.0 counts as 2); anything else fails.
long long setting_integer(const nlohmann::json& value, const std::string& key, long long min, long long max);

}  // namespace chorus::agents
