#pragma once
// Python str semantics on UTF-8 strings for the Jinja engine: code points, whitespace, strip/split, case,
// repr.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::inference::jinja {

// The code points of a UTF-8 string, each as its own UTF-8 substring (an invalid byte stands alone).
std::vector<std::string> utf8_chars(std::string_view s);
// The number of code points (Python len()).
size_t utf8_length(std::string_view s);
// The UTF-8 encoding of one code point.
std::string utf8_encode(char32_t cp);
// The code points of a UTF-8 string (an invalid byte decodes as itself).
std::u32string utf8_decode(std::string_view s);
// Python's str.isspace() for one code point.
bool is_python_space(char32_t cp);
// str.strip/lstrip/rstrip: removes `chars` (code points), or Python whitespace when chars is nullopt.
std::string python_strip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right);
// str.split(sep, maxsplit): sep nullopt splits on whitespace runs; maxsplit < 0 means no limit.
std::vector<std::string> python_split(std::string_view s, const std::optional<std::string>& sep,
                                      long maxsplit);
// str.rsplit(sep, maxsplit).
std::vector<std::string> python_rsplit(std::string_view s, const std::optional<std::string>& sep,
                                       long maxsplit);
// str.splitlines(keepends).
std::vector<std::string> python_splitlines(std::string_view s, bool keepends = false);
// str.replace(old, new, count); count < 0 replaces all.
std::string python_replace(std::string_view s, std::string_view from, std::string_view to, long count = -1);
// str.upper() (ASCII and the Latin-1/Latin Extended-A/Greek/Cyrillic basic letters).
std::string python_upper(std::string_view s);
// str.lower() (same coverage as python_upper).
std::string python_lower(std::string_view s);
// str.center(width, fill): pads both sides to `width` code points the way CPython splits the margin.
std::string python_center(std::string_view s, int64_t width, std::string_view fill = " ");
// str.capitalize(): first code point upper, the rest lower.
std::string python_capitalize(std::string_view s);
// str.title(): upper after any non-letter, lower elsewhere.
std::string python_title(std::string_view s);
// repr() of a str: quoted with ' (or " when it holds ' but no "), escapes as Python prints them.
std::string python_repr_string(std::string_view s);
// repr() of a float: shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string python_float_repr(double v);

}  // namespace chorus::inference::jinja
