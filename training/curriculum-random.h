#pragma once
// The curriculum's random choices: std::mt19937_64 (its output sequence is fixed by the C++ standard) mapped to
// ranges by our own arithmetic, never by <random>'s distributions (whose output is implementation-defined), so a
// seed gives the same data on every platform and standard library.
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::training {

// splitmix64 finalizer: spreads a seed (and a stream/example number) over 64 bits.
inline uint64_t curriculum_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class CurriculumRng {
 public:
  explicit CurriculumRng(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }

  // Uniform in [0, n) by rejection (no modulo bias); n >= 1.
  uint64_t below(uint64_t n) {
    if (n == 0) throw std::invalid_argument("CurriculumRng::below(0)");
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // accept [0, limit): a whole number of n-blocks
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }

  // Uniform integer in [lo, hi] (inclusive).
  int64_t range(int64_t lo, int64_t hi) {
    if (hi < lo) throw std::invalid_argument("CurriculumRng::range: hi < lo");
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    const uint64_t offset = span == UINT64_MAX ? next() : below(span + 1);
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + offset);
  }

  // Uniform double in [0, 1): the top 53 bits.
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }

  // True with probability p.
  bool chance(double p) { return unit() < p; }

  template <class T>
  const T& pick(const std::vector<T>& items) {
    if (items.empty()) throw std::invalid_argument("CurriculumRng::pick: empty list");
    return items[below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace chorus::training
