#pragma once
// Unicode support for the tokenizer: UTF-8 coding, general categories, White_Space, case folding, NFC/NFD.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::inference {

// Unicode general categories; the order is fixed by the generated tables (unicode-data.cpp).
enum class GeneralCategory : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe,
  Pi, Pf, Po, Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co,
};

// Bit of unicode_props() that is set for White_Space code points (the low bits are the category bit).
inline constexpr uint32_t kPropWhiteSpace = 1u << 30;
// Category masks for unicode_props(): letters, marks, numbers (\p{L}, \p{M}, \p{N}).
inline constexpr uint32_t kPropLetter = 0b111110;
inline constexpr uint32_t kPropMark = 0b111000000;
inline constexpr uint32_t kPropNumber = 0b111000000000;

// The Unicode version of the generated tables, e.g. "14.0.0".
const char* unicode_version();
// The general category of a code point (Cn for unassigned and out-of-range values).
GeneralCategory unicode_category(char32_t cp);
// (1 << category) | (White_Space ? kPropWhiteSpace : 0): one table lookup for the regex classes.
uint32_t unicode_props(char32_t cp);
// Whether cp has the White_Space property (what \s means in Oniguruma and the Rust regex crate).
bool unicode_is_white_space(char32_t cp);
// Simple case folding (CaseFolding.txt statuses C and S), used for (?i:...) matching.
char32_t unicode_simple_fold(char32_t cp);
// The canonical combining class (0 for starters).
uint8_t unicode_combining_class(char32_t cp);

// Decodes one code point at s[pos], advancing pos; invalid or truncated sequences give U+FFFD, consuming the
// maximal invalid subpart (like Rust's String::from_utf8_lossy).
char32_t utf8_decode(std::string_view s, size_t& pos);
// Appends the UTF-8 form of cp (surrogates and values above U+10FFFF become U+FFFD).
void utf8_append(std::string& out, char32_t cp);
// Appends the code points of s to out (lossy, see utf8_decode).
void utf8_to_cpts(std::string_view s, std::u32string& out);
// The UTF-8 form of a code point sequence.
std::string cpts_to_utf8(std::u32string_view cpts);
// Whether s is valid UTF-8.
bool utf8_is_valid(std::string_view s);
// s with every invalid sequence replaced by U+FFFD (a copy of s when it is valid).
std::string utf8_lossy(std::string_view s);
// The length of the longest prefix of s that does not end inside a multi-byte sequence that could still be
// completed by further bytes (invalid bytes count as complete: they decode to U+FFFD).
size_t utf8_complete_prefix(std::string_view s);
// The byte length of the UTF-8 sequence starting with lead byte c (1 for invalid lead bytes).
inline size_t utf8_sequence_length(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
}

// Whether cps is certainly NFC (quick check: no NFC_Quick_Check No/Maybe code points, combining marks ordered).
bool unicode_is_nfc_quick(std::u32string_view cpts);
// Canonical decomposition (NFD) of cpts, canonically ordered.
std::u32string unicode_nfd(std::u32string_view cpts);
// Canonical composition (NFC) of cpts.
std::u32string unicode_nfc(std::u32string_view cpts);
// NFC of UTF-8 text (lossy for invalid UTF-8); returns false and leaves out untouched when text is already NFC.
bool utf8_nfc(std::string_view text, std::string& out);
// NFD of UTF-8 text (lossy for invalid UTF-8).
std::string utf8_nfd(std::string_view text);

}  // namespace chorus::inference
