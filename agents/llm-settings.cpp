#include "agents/llm-settings.h"

#include "tools/text-util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace chorus::agents {

using nlohmann::json;

void fail_setting(const std::string& key, const std::string& why) {
  throw std::invalid_argument("llm." + key + (why.rfind(":", 0) == 0 ? "" : " ") + why);
}

void reject_unknown_settings(const json& object, const std::vector<std::string_view>& known,
                             const std::string& provider, const std::string& prefix) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string_view best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (auto k : known)
      if (const std::size_t d = tools::edit_distance(key, k); d < best_distance) best = k, best_distance = d;
    std::string hint;
    if (best_distance <= std::max<std::size_t>(2, key.size() / 3) && best_distance < key.size())
      hint = "; did you mean llm." + prefix + std::string(best) + "?";
    std::string names;
    for (auto k : known) names.append(names.empty() ? "" : ", ").append(k);
    throw std::invalid_argument("llm." + prefix + key + " is not a setting of the " + provider + " provider" + hint +
                                " (known: " + names + "); remove it or fix its name");
  }
}

std::string setting_string(const json& v, const std::string& key) {
  if (!v.is_string()) fail_setting(key, "must be a string (got " + v.dump() + ")");
  return v.get<std::string>();
}

double setting_number(const json& v, const std::string& key, double min, double max, bool min_open) {
  if (!v.is_number()) fail_setting(key, "must be a number (got " + v.dump() + ")");
  const double x = v.get<double>();
  if (!(min_open ? x > min : x >= min) || !(x <= max))
    fail_setting(key, "must be " + std::string(min_open ? "> " : ">= ") + json(min).dump() + " and <= " +
                          json(max).dump() + " (got " + v.dump() + ")");
  return x;
}

long long setting_integer(const json& v, const std::string& key, long long min, long long max) {
  const bool integral =
      v.is_number_integer() || (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>());
  if (!integral) fail_setting(key, "must be an integer (got " + v.dump() + ")");
  const long long x = v.is_number_unsigned()
                          ? static_cast<long long>(std::min<unsigned long long>(
                                v.get<unsigned long long>(), std::numeric_limits<long long>::max()))
                          : v.get<long long>();
  if (x < min || x > max)
    fail_setting(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                          v.dump() + ")");
  return x;
}

}  // namespace chorus::agents
