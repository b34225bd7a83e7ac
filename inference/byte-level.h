#pragma once
// The GPT-2 byte-level alphabet: each byte is written as one printable code point (bytes_to_unicode).
#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::inference {

// The code point that stands for byte b (e.g. ' ' -> U+0120 'Ġ').
char32_t byte_level_char(uint8_t b);
// The byte a code point of the alphabet stands for, or -1 when cp is not in the alphabet.
int byte_level_byte(char32_t cp);
// The UTF-8 text of raw bytes written in the alphabet ("a b" -> "aĠb").
std::string byte_level_encode(std::string_view raw);
// Appends the UTF-8 form of byte b's alphabet character to out.
void byte_level_append(std::string& out, uint8_t b);
// Maps a token back to raw bytes; false (out untouched) when some character is not in the alphabet.
bool byte_level_decode(std::string_view token, std::string& out);

}  // namespace chorus::inference
