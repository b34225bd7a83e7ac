// Normalizers: Unicode canonical forms and sequences of normalizers.
#include "inference/normalizer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "inference/tokenizer-json.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

class NfcNormalizer : public Normalizer {
 public:
  bool normalize(std::string_view text, std::string& out) const override { return utf8_nfc(text, out); }
};

class NfdNormalizer : public Normalizer {
 public:
  bool normalize(std::string_view text, std::string& out) const override {
    std::string d = utf8_nfd(text);
    if (d == text) return false;
    out = std::move(d);
    return true;
  }
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  bool normalize(std::string_view text, std::string& out) const override {
    bool changed = false;
    std::string current, next;
    for (const auto& step : steps_) {
      std::string_view in = changed ? std::string_view(current) : text;
      if (step->normalize(in, next)) {
        current.swap(next);
        changed = true;
      }
    }
    if (changed) out = std::move(current);
    return changed;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::string Normalizer::apply(std::string_view text) const {
  std::string out;
  if (!normalize(text, out)) return std::string(text);
  return out;
}

std::unique_ptr<Normalizer> make_normalizer(const JsonRef& config) {
  if (config.is_null()) return nullptr;
  config.expect_object();
  const std::string type = config.type();
  if (type == "NFC") return std::make_unique<NfcNormalizer>();
  if (type == "NFD") return std::make_unique<NfdNormalizer>();
  if (type == "Sequence") {
    JsonRef list = config.at("normalizers");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.size(); ++i) {
      JsonRef item = list.at(i);
      if (item.is_null()) item.fail("must be an object, not null");
      steps.push_back(make_normalizer(item));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  config.unsupported_type(type, "NFC, NFD, Sequence");
}

}  // namespace chorus::inference
