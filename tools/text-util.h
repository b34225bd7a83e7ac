#pragma once
// Small text helpers shared by the tools (and the layers above): case folding, trimming, edit distance, joining.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::tools {

// ASCII lower-case copy of `text` (other bytes unchanged).
std::string ascii_lower(std::string_view text);
// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);
// Levenshtein distance between `a` and `b` (bytes).
std::size_t edit_distance(std::string_view a, std::string_view b);
// The items separated by `separator` ("a, b, c").
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace chorus::tools
