// GPT-2 bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes are shifted to
// U+0100.. in byte order.
#include "inference/byte-level.h"

#include <array>

#include "inference/unicode.h"

namespace chorus::inference {
namespace {

struct Alphabet {
  std::array<char32_t, 256> chars{};
  std::array<std::string, 256> utf8;
  std::array<int16_t, 324> bytes{};  // every alphabet code point is below U+0144

  Alphabet() {
    bytes.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      chars[b] = printable ? static_cast<char32_t>(b) : next++;
      bytes[chars[b]] = static_cast<int16_t>(b);
      utf8_append(utf8[b], chars[b]);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet a;
  return a;
}

}  // namespace

char32_t byte_level_char(uint8_t b) { return alphabet().chars[b]; }

int byte_level_byte(char32_t cp) { return cp < 324 ? alphabet().bytes[cp] : -1; }

void byte_level_append(std::string& out, uint8_t b) { out += alphabet().utf8[b]; }

std::string byte_level_encode(std::string_view raw) {
  const Alphabet& a = alphabet();
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) out += a.utf8[static_cast<uint8_t>(c)];
  return out;
}

bool byte_level_decode(std::string_view token, std::string& out) {
  const Alphabet& a = alphabet();
  const size_t mark = out.size();
  size_t pos = 0;
  while (pos < token.size()) {
    char32_t cp = utf8_decode(token, pos);
    int b = cp < 324 ? a.bytes[cp] : -1;
    if (b < 0) {
      out.resize(mark);
      return false;
    }
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace chorus::inference
