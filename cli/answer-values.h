#pragma once
// What a model's final answer must state to count as stating the tool's result (`chorus train eval`).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chorus::cli {

// Whether `needle` occurs in `text` with no letter or digit right before or after it.
bool contains_token(const std::string& text, const std::string& needle);

// Appends the scalar values of `value` (strings as they are, numbers and booleans as JSON text), depth first.
void scalar_texts(const nlohmann::json& value, std::vector<std::string>& out);

// The values an answer must state: the tool results' values that the reference answer states, less those the question
// or the calls' arguments already hold; all the reference states when that leaves none; empty when it states none.
std::vector<std::string> result_values_to_state(const std::vector<nlohmann::json>& results,
                                                const std::vector<nlohmann::json>& call_arguments,
                                                const std::string& question, const std::string& reference);

}  // namespace chorus::cli
