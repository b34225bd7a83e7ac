#pragma once
// Checks UTF-8 one byte at a time as RFC 3629 defines it (no overlong forms, no surrogates, nothing past
// U+10FFFF), for matchers that must refuse a byte as soon as no well-formed text could continue.
#include <cstdint>

namespace chorus::inference {

struct Utf8Stepper {
  uint8_t need = 0;   // continuation bytes still due
  uint8_t lo = 0x80;  // the range the next continuation byte must be in
  uint8_t hi = 0xBF;

  // False when `byte` cannot come next (the state is then unchanged).
  bool step(unsigned char byte) {
    if (need > 0) {
      if (byte < lo || byte > hi) return false;
      --need;
      lo = 0x80, hi = 0xBF;
      return true;
    }
    if (byte < 0x80) return true;
    if (byte >= 0xC2 && byte <= 0xDF) return need = 1, true;
    if (byte == 0xE0) return need = 2, lo = 0xA0, true;
    if ((byte >= 0xE1 && byte <= 0xEC) || byte == 0xEE || byte == 0xEF) return need = 2, true;
    if (byte == 0xED) return need = 2, hi = 0x9F, true;
    if (byte == 0xF0) return need = 3, lo = 0x90, true;
    if (byte >= 0xF1 && byte <= 0xF3) return need = 3, true;
    if (byte == 0xF4) return need = 3, hi = 0x8F, true;
    return false;  // a stray continuation byte, C0, C1, F5..FF
  }
  // Between characters (no sequence left open).
  bool at_boundary() const { return need == 0; }
};

}  // namespace chorus::inference
