#include "cli/answer-values.h"

#include <algorithm>
#include <cctype>

namespace chorus::cli {

using json = nlohmann::json;

bool contains_token(const std::string& text, const std::string& needle) {
  if (needle.empty()) return false;
  auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    const bool left = at == 0 || !alnum(text[at - 1]) || !alnum(needle.front());
    const size_t end = at + needle.size();
    const bool right = end >= text.size() || !alnum(text[end]) || !alnum(needle.back());
    if (left && right) return true;
  }
  return false;
}

void scalar_texts(const json& value, std::vector<std::string>& out) {
  if (value.is_object() || value.is_array()) {
    for (const auto& item : value) scalar_texts(item, out);
  } else if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (!value.is_null() && !value.is_discarded()) {
    out.push_back(value.dump());
  }
}

// An answer need not repeat what the user or the call already said: the expression, the date asked about, or a day
// of the year that happens to equal the day of the month in the question.
std::vector<std::string> result_values_to_state(const std::vector<json>& results, const std::vector<json>& call_arguments,
                                                const std::string& question, const std::string& reference) {
  std::vector<std::string> values, inputs, stated, computed;
  for (const auto& r : results) scalar_texts(r, values);
  for (const auto& a : call_arguments) scalar_texts(a, inputs);
  for (const auto& v : values) {
    if (!contains_token(reference, v)) continue;
    stated.push_back(v);
    const bool echoed =
        contains_token(question, v) || std::any_of(inputs.begin(), inputs.end(), [&](const std::string& in) { return in == v; });
    if (!echoed) computed.push_back(v);
  }
  return computed.empty() ? stated : computed;
}

}  // namespace chorus::cli
