#pragma once
// Generated Unicode tables (inference/unicode-data.cpp, from scripts/gen-unicode-tables.py); used by unicode.cpp.
#include <cstddef>
#include <cstdint>

namespace chorus::inference::unicode_data {

// An inclusive code point range.
struct CodeRange {
  uint32_t first, last;
};
// Code points first, first + stride, ... (count of them) fold to code point + delta.
struct FoldRun {
  uint32_t first;
  uint16_t count;
  int32_t delta;
  uint8_t stride;
};
// count code points from first with canonical combining class ccc.
struct ClassRun {
  uint32_t first;
  uint16_t count;
  uint8_t ccc;
};
// cp decomposes canonically to first (+ second unless 0).
struct Decomposition {
  uint32_t cp, first, second;
};
// first + second compose to composite.
struct Composition {
  uint32_t first, second, composite;
};

extern const char kUnicodeVersion[];  // e.g. "14.0.0"
extern const uint32_t kCategoryRuns[];  // (first << 5) | category
extern const size_t kCategoryRuns_size;
extern const CodeRange kWhiteSpace[];
extern const size_t kWhiteSpace_size;
extern const FoldRun kFoldRuns[];
extern const size_t kFoldRuns_size;
extern const ClassRun kCombiningClassRuns[];
extern const size_t kCombiningClassRuns_size;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositions_size;
extern const Composition kCompositions[];
extern const size_t kCompositions_size;
extern const CodeRange kNfcQuickCheckNotYes[];
extern const size_t kNfcQuickCheckNotYes_size;

}  // namespace chorus::inference::unicode_data
