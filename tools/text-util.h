#pragma once
// Small ASCII text helpers shared by the tools: case folding, trimming, edit distance.
#include <cstddef>
#include <string>
#include <string_view>

namespace chorus::tools {

// ASCII lower-case copy of `text` (other bytes unchanged).
std::string ascii_lower(std::string_view text);
// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);
// Levenshtein distance between `a` and `b` (bytes).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace chorus::tools
