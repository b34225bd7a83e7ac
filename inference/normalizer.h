#pragma once
// Normalizers of tokenizer.json ("normalizer"): NFC, NFD and Sequence.
#include <memory>
#include <string>
#include <string_view>

namespace chorus::inference {

class JsonRef;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Writes the normalized text to out and returns true, or returns false when text is unchanged.
  virtual bool normalize(std::string_view text, std::string& out) const = 0;
  // The normalized text.
  std::string apply(std::string_view text) const;
};

// Builds the normalizer described by a tokenizer.json value; nullptr for null. Throws TokenizerError.
std::unique_ptr<Normalizer> make_normalizer(const JsonRef& config);

}  // namespace chorus::inference
