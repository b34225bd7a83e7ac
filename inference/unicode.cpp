// Unicode support: a two-stage property table built once from the generated range tables, UTF-8 coding,
// case folding and canonical (de)composition.
#include "inference/unicode.h"

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_map>
#include <vector>

#include "inference/unicode-data.h"

namespace chorus::inference {
namespace {

namespace ud = unicode_data;

constexpr char32_t kMaxCodePoint = 0x10FFFF;
constexpr char32_t kReplacement = 0xFFFD;

// Bits of the per-code-point property byte.
constexpr uint8_t kByteCategoryMask = 0x1F;
constexpr uint8_t kByteWhiteSpace = 0x20;
constexpr uint8_t kByteNfcNotYes = 0x40;   // NFC_Quick_Check No or Maybe
constexpr uint8_t kByteCombining = 0x80;   // canonical combining class != 0

// Hangul syllable constants (Unicode chapter 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

// Property bytes for all code points: stage1[cp >> 8] selects a deduplicated 256-entry block of stage2.
struct PropertyTable {
  std::vector<uint16_t> stage1;
  std::vector<uint8_t> stage2;

  PropertyTable() {
    std::vector<uint8_t> flat(kMaxCodePoint + 1, 0);
    for (size_t i = 0; i < ud::kCategoryRuns_size; ++i) {
      uint32_t first = ud::kCategoryRuns[i] >> 5;
      uint32_t end = i + 1 < ud::kCategoryRuns_size ? ud::kCategoryRuns[i + 1] >> 5 : kMaxCodePoint + 1;
      std::fill(flat.begin() + first, flat.begin() + end, static_cast<uint8_t>(ud::kCategoryRuns[i] & 0x1F));
    }
    for (size_t i = 0; i < ud::kWhiteSpace_size; ++i)
      for (uint32_t cp = ud::kWhiteSpace[i].first; cp <= ud::kWhiteSpace[i].last; ++cp) flat[cp] |= kByteWhiteSpace;
    for (size_t i = 0; i < ud::kNfcQuickCheckNotYes_size; ++i)
      for (uint32_t cp = ud::kNfcQuickCheckNotYes[i].first; cp <= ud::kNfcQuickCheckNotYes[i].last; ++cp)
        flat[cp] |= kByteNfcNotYes;
    for (size_t i = 0; i < ud::kCombiningClassRuns_size; ++i)
      for (uint32_t k = 0; k < ud::kCombiningClassRuns[i].count; ++k) flat[ud::kCombiningClassRuns[i].first + k] |= kByteCombining;

    const size_t blocks = (kMaxCodePoint + 1) >> 8;
    stage1.resize(blocks);
    std::unordered_map<std::string, uint16_t> seen;
    for (size_t b = 0; b < blocks; ++b) {
      std::string key(reinterpret_cast<const char*>(flat.data() + (b << 8)), 256);
      auto [it, inserted] = seen.emplace(std::move(key), static_cast<uint16_t>(stage2.size() >> 8));
      if (inserted) stage2.insert(stage2.end(), flat.begin() + (b << 8), flat.begin() + ((b + 1) << 8));
      stage1[b] = it->second;
    }
  }

  uint8_t get(char32_t cp) const {
    if (cp > kMaxCodePoint) return 0;
    return stage2[(static_cast<size_t>(stage1[cp >> 8]) << 8) | (cp & 0xFF)];
  }
};

const PropertyTable& table() {
  static const PropertyTable t;
  return t;
}

// The bit for each property byte: (1 << category) | White_Space.
constexpr std::array<uint32_t, 64> make_prop_bits() {
  std::array<uint32_t, 64> bits{};
  for (uint32_t b = 0; b < 64; ++b) bits[b] = (1u << (b & kByteCategoryMask)) | ((b & kByteWhiteSpace) ? kPropWhiteSpace : 0);
  return bits;
}
constexpr std::array<uint32_t, 64> kPropBits = make_prop_bits();

bool is_hangul_syllable(char32_t cp) { return cp >= kSBase && cp < kSBase + kSCount; }

void decompose_append(char32_t cp, std::u32string& out) {
  if (cp < 0xC0) {
    out.push_back(cp);
    return;
  }
  if (is_hangul_syllable(cp)) {
    char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const auto* end = ud::kDecompositions + ud::kDecompositions_size;
  const auto* it = std::lower_bound(ud::kDecompositions, end, cp,
                                    [](const ud::Decomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  decompose_append(it->first, out);
  if (it->second != 0) decompose_append(it->second, out);
}

// The primary composite of (a, b), or 0.
char32_t compose_pair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (is_hangul_syllable(a) && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) return a + (b - kTBase);
  const auto* end = ud::kCompositions + ud::kCompositions_size;
  const auto* it = std::lower_bound(ud::kCompositions, end, std::pair<char32_t, char32_t>(a, b),
                                    [](const ud::Composition& c, const std::pair<char32_t, char32_t>& key) {
                                      return c.first != key.first ? c.first < key.first : c.second < key.second;
                                    });
  if (it == end || it->first != a || it->second != b) return 0;
  return it->composite;
}

// Stable sort of each run of non-starters by combining class.
void canonical_order(std::u32string& s) {
  for (size_t i = 1; i < s.size(); ++i) {
    uint8_t c = unicode_combining_class(s[i]);
    if (c == 0) continue;
    size_t j = i;
    char32_t cp = s[i];
    while (j > 0) {
      uint8_t p = unicode_combining_class(s[j - 1]);
      if (p == 0 || p <= c) break;
      s[j] = s[j - 1];
      --j;
    }
    s[j] = cp;
  }
}

}  // namespace

const char* unicode_version() { return ud::kUnicodeVersion; }

GeneralCategory unicode_category(char32_t cp) {
  return static_cast<GeneralCategory>(table().get(cp) & kByteCategoryMask);
}

uint32_t unicode_props(char32_t cp) { return kPropBits[table().get(cp) & 0x3F]; }

bool unicode_is_white_space(char32_t cp) { return (table().get(cp) & kByteWhiteSpace) != 0; }

char32_t unicode_simple_fold(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const auto* end = ud::kFoldRuns + ud::kFoldRuns_size;
  const auto* it = std::upper_bound(ud::kFoldRuns, end, cp, [](char32_t c, const ud::FoldRun& r) { return c < r.first; });
  if (it == ud::kFoldRuns) return cp;
  --it;
  uint32_t offset = cp - it->first;
  if (offset % it->stride != 0 || offset / it->stride >= it->count) return cp;
  return static_cast<char32_t>(static_cast<int64_t>(cp) + it->delta);
}

uint8_t unicode_combining_class(char32_t cp) {
  if (cp < 0x300 || !(table().get(cp) & kByteCombining)) return 0;
  const auto* end = ud::kCombiningClassRuns + ud::kCombiningClassRuns_size;
  const auto* it = std::upper_bound(ud::kCombiningClassRuns, end, cp,
                                    [](char32_t c, const ud::ClassRun& r) { return c < r.first; });
  if (it == ud::kCombiningClassRuns) return 0;
  --it;
  return cp - it->first < it->count ? it->ccc : 0;
}

char32_t utf8_decode(std::string_view s, size_t& pos) {
  auto c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) {
    ++pos;
    return c;
  }
  size_t len;
  char32_t cp;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    ++pos;
    return kReplacement;
  }
  size_t i = pos + 1;
  for (size_t k = 1; k < len; ++k, ++i) {
    if (i >= s.size()) {
      pos = i;
      return kReplacement;
    }
    auto b = static_cast<unsigned char>(s[i]);
    if (b < lo || b > hi) {
      pos = i;
      return kReplacement;
    }
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  pos = i;
  return cp;
}

void utf8_append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
    return;
  }
  if (cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
}

void utf8_to_cpts(std::string_view s, std::u32string& out) {
  out.reserve(out.size() + s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      out.push_back(c);
      ++pos;
    } else {
      out.push_back(utf8_decode(s, pos));
    }
  }
}

std::string cpts_to_utf8(std::u32string_view cpts) {
  std::string out;
  out.reserve(cpts.size());
  for (char32_t cp : cpts) utf8_append(out, cp);
  return out;
}

bool utf8_is_valid(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      ++pos;
      continue;
    }
    size_t start = pos;
    if (utf8_decode(s, pos) == kReplacement) {
      // A genuine U+FFFD (EF BF BD) is valid.
      if (!(pos - start == 3 && s.compare(start, 3, "\xEF\xBF\xBD") == 0)) return false;
    }
  }
  return true;
}

std::string utf8_lossy(std::string_view s) {
  if (utf8_is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  size_t pos = 0;
  while (pos < s.size()) utf8_append(out, utf8_decode(s, pos));
  return out;
}

size_t utf8_complete_prefix(std::string_view s) {
  const size_t n = s.size();
  // Find the last lead byte among the final 4 bytes (skipping continuation bytes).
  size_t p = n;
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) != 0x80) {
      p = n - back;
      break;
    }
  }
  if (p == n) return n;
  auto c = static_cast<unsigned char>(s[p]);
  if (c < 0xC2 || c > 0xF4) return n;
  size_t need = utf8_sequence_length(c);
  if (n - p >= need) return n;
  // Truncated: still completable only if the continuation bytes present are acceptable.
  unsigned char lo = 0x80, hi = 0xBF;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  for (size_t i = p + 1; i < n; ++i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < lo || b > hi) return n;
    lo = 0x80;
    hi = 0xBF;
  }
  return p;
}

bool unicode_is_nfc_quick(std::u32string_view cpts) {
  const auto& t = table();
  uint8_t last_ccc = 0;
  for (char32_t cp : cpts) {
    if (cp < 0x300) {
      last_ccc = 0;
      continue;
    }
    uint8_t b = t.get(cp);
    if (b & kByteNfcNotYes) return false;
    if (!(b & kByteCombining)) {
      last_ccc = 0;
      continue;
    }
    uint8_t ccc = unicode_combining_class(cp);
    if (last_ccc > ccc) return false;
    last_ccc = ccc;
  }
  return true;
}

std::u32string unicode_nfd(std::u32string_view cpts) {
  std::u32string out;
  out.reserve(cpts.size() + 8);
  for (char32_t cp : cpts) decompose_append(cp, out);
  canonical_order(out);
  return out;
}

std::u32string unicode_nfc(std::u32string_view cpts) {
  std::u32string d = unicode_nfd(cpts);
  std::u32string out;
  out.reserve(d.size());
  size_t starter = std::u32string::npos;
  uint8_t last_ccc = 0;
  for (char32_t cp : d) {
    uint8_t ccc = unicode_combining_class(cp);
    if (starter != std::u32string::npos) {
      bool adjacent = out.size() - 1 == starter;
      if (adjacent || (last_ccc != 0 && last_ccc < ccc)) {
        if (char32_t comp = compose_pair(out[starter], cp)) {
          out[starter] = comp;
          continue;
        }
      }
    }
    if (ccc == 0) starter = out.size();
    last_ccc = ccc;
    out.push_back(cp);
  }
  return out;
}

bool utf8_nfc(std::string_view text, std::string& out) {
  // ASCII and text below U+0300 is always NFC.
  bool simple = true;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0xCC) {  // lead bytes of U+0300 and above
      simple = false;
      break;
    }
  }
  if (simple && utf8_is_valid(text)) return false;
  std::u32string cpts;
  utf8_to_cpts(text, cpts);
  if (unicode_is_nfc_quick(cpts) && utf8_is_valid(text)) return false;
  out = cpts_to_utf8(unicode_nfc(cpts));
  return true;
}

std::string utf8_nfd(std::string_view text) {
  std::u32string cpts;
  utf8_to_cpts(text, cpts);
  return cpts_to_utf8(unicode_nfd(cpts));
}

}  // namespace chorus::inference
