#pragma once
// Restricts which tokens generation may pick next (grammar-guided decoding); generate() masks the others'
// logits.
#include <cstdint>
#include <vector>

namespace chorus::inference {

class TokenConstraint {
 public:
  virtual ~TokenConstraint() = default;
  // Sets allowed[id] = 1 for each id that may come next (0 for the rest) and returns true, or returns false
  // when any token may come next. An id past allowed.size() is not allowed while a mask is given.
  virtual bool mask_next(std::vector<uint8_t>& allowed) = 0;
  // The id generation picked (masked or not).
  virtual void accept(int64_t id) = 0;
};

}  // namespace chorus::inference
