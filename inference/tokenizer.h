#pragma once
// Tokenizer: the Hugging Face tokenizer.json pipeline for byte-level BPE models (Llama 3, Qwen2, GPT-2 style):
// added tokens -> normalizer -> pre-tokenizer -> BPE -> post-processor; decoding through the ByteLevel decoder.
//
// Supported components: normalizer NFC, NFD, Sequence; pre_tokenizer Split, ByteLevel, Sequence, Digits,
// Whitespace, WhitespaceSplit, Punctuation; model BPE; post_processor TemplateProcessing, ByteLevel,
// BertProcessing, RobertaProcessing, Sequence; decoder ByteLevel, Sequence of ByteLevel. Anything else, and
// any malformed field, is a TokenizerError naming the file and the field path.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inference/added-tokens.h"
#include "inference/tokenizer-json.h"

namespace chorus::inference {

class Tokenizer {
 public:
  // Loads a tokenizer.json file; throws TokenizerError (unreadable file, bad JSON, unsupported component).
  static Tokenizer from_file(const std::filesystem::path& path);
  // Parses tokenizer.json text; source names it in error messages.
  static Tokenizer from_json(std::string_view json, const std::string& source = "tokenizer.json");
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of text; added-token strings in it become their ids; add_special_tokens applies the
  // post-processor (e.g. a BOS token). Invalid UTF-8 is read lossily (U+FFFD). Thread-safe.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Token ids of a pair of texts (the post-processor's pair template when add_special_tokens).
  std::vector<int32_t> encode_pair(std::string_view first, std::string_view second,
                                   bool add_special_tokens = true) const;
  // Text of ids (unknown ids are skipped; invalid UTF-8 from split characters becomes U+FFFD).
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  // The raw bytes decode() produces for id at position first/later in a sequence ("" for unknown ids).
  std::string token_bytes(int32_t id, bool first = false) const;
  // The id of a token string (added tokens first, then the model vocabulary).
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token string of id (added tokens first, then the model vocabulary).
  std::optional<std::string> id_to_token(int32_t id) const;
  // Number of distinct tokens, with or without the added tokens that are not in the model vocabulary.
  size_t vocab_size(bool with_added_tokens = true) const;
  // One more than the largest id (the size an embedding / logits row needs).
  int32_t id_end() const;
  // Whether id is a special token (skipped by decode with skip_special_tokens).
  bool is_special(int32_t id) const;
  // The added tokens, in file order.
  const std::vector<AddedToken>& added_tokens() const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::inference
