#pragma once
// The BPE model of tokenizer.json ("model": {"type": "BPE"}): vocabulary, ranked merges, unknown-token and
// byte-fallback handling, ignore_merges, and a bounded cache of pre-token results.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::inference {

class JsonRef;

class BpeModel {
 public:
  // Builds the model from the "model" object; throws TokenizerError naming the offending field.
  static std::unique_ptr<BpeModel> from_json(const JsonRef& config);
  ~BpeModel();

  // Appends the ids of one pre-token; with byte_level, piece holds raw bytes that stand for their
  // ByteLevel alphabet text (the vocabulary is written in that alphabet).
  void encode(std::string_view piece, bool byte_level, std::vector<int32_t>& ids) const;
  // The id of a vocabulary entry.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The vocabulary entry of id, or nullptr.
  const std::string* id_to_token(int32_t id) const;
  // Number of vocabulary entries.
  size_t vocab_size() const;
  // One more than the largest id.
  int32_t id_end() const;
  // Number of merges.
  size_t merge_count() const;
  // Entries of the pre-token cache (for tests).
  size_t cache_size() const;

 private:
  BpeModel();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::inference
