#pragma once
// Byte-level BPE tokenizer training: writes a Hugging Face tokenizer.json with Qwen2's pipeline (NFC normalizer,
// Split pre-tokenizer with Qwen2's regex + ByteLevel, ByteLevel post-processor and decoder), and a
// tokenizer_config.json skeleton for it.
//
// Training text goes through the same code that encodes at run time (inference/added-tokens, normalizer,
// pretokenizer, built from the very JSON that is written), so the words the merges are learned on are exactly
// the pre-tokens the tokenizer will see. The algorithm is the standard one (Sennrich et al.; Hugging Face's
// BpeTrainer): count pre-token words, start from the 256 byte-level symbols, repeatedly merge the most frequent
// adjacent pair of symbols (counts weighted by word frequency) until the vocabulary is full, no pair is left, or
// the best pair occurs fewer than min_frequency times. Pair counts are updated incrementally, only in the words
// that contain the merged pair.
//
// Determinism: ties between pairs of equal count are broken by the smaller pair, comparing first the left and then
// the right token as byte strings of their vocab form (the byte-level alphabet text written in tokenizer.json).
// Nothing depends on hash-table order, so the same input and options give a byte-identical file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chorus::training {

// Qwen2-style special tokens: <|endoftext|>, <|im_start|>, <|im_end|>, <tool_call>, </tool_call>,
// <tool_response>, </tool_response>.
std::vector<std::string> default_special_tokens();

// Qwen2's pre-tokenizer regex (Split, behavior Isolated): every digit is its own pre-token.
inline constexpr char kQwen2Pattern[] =
    R"x((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)x";
// Llama-3's: the same but for numbers, which split into groups of up to 3 digits from the left ("1234567" ->
// "123", "456", "7").
inline constexpr char kLlama3Pattern[] =
    R"x((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)x";

struct BpeTrainerOptions {
  // Total number of ids, special tokens included (the embedding size); at least 256 + special tokens.
  size_t vocab_size = 8192;
  // A pair is merged only if it occurs at least this often (weighted by word counts); at least 1.
  uint64_t min_frequency = 2;
  // Added tokens (normalized: false; special: true for <|...|> control tokens only, as Qwen2.5), given ids after
  // the BPE vocabulary in this order. They are
  // cut out of the training text before counting, as the tokenizer cuts them out before encoding.
  std::vector<std::string> special_tokens = default_special_tokens();
  // Digits per number pre-token: 1 (kQwen2Pattern) or 3 (kLlama3Pattern: a number is a few high-entropy tokens,
  // which a small model copies far more easily than a string of 10 digit symbols).
  int digits_per_token = 1;
};

struct BpeTrainingResult {
  std::string tokenizer_json;           // the tokenizer.json text
  size_t vocab_size = 0;                // total ids: BPE vocabulary + special tokens
  size_t bpe_vocab_size = 0;            // 256 byte symbols + tokens made by merges
  size_t merges = 0;                    // number of merges (> bpe_vocab_size - 256 when merges made the same text)
  std::vector<std::string> special_tokens;  // their ids are bpe_vocab_size, bpe_vocab_size + 1, ...
  // Empty when vocab_size reached the requested size; otherwise why training stopped early.
  std::string stopped_early;
  uint64_t words = 0;       // pre-token words counted in the training text
  uint64_t word_types = 0;  // distinct words
  uint64_t text_bytes = 0;  // UTF-8 bytes of training text added
};

class BpeTrainer {
 public:
  // Throws std::invalid_argument for a vocab size below 256 + specials, min_frequency 0, empty or duplicate
  // special tokens.
  explicit BpeTrainer(BpeTrainerOptions options);
  ~BpeTrainer();
  BpeTrainer(BpeTrainer&&) noexcept;
  BpeTrainer& operator=(BpeTrainer&&) noexcept;

  // Counts the words of one text (one document: pre-tokenization does not cross between texts).
  void add_text(std::string_view text);
  // Counts the words of a whole file (one document); throws std::runtime_error naming it when unreadable.
  void add_file(const std::filesystem::path& path);
  // Learns the merges over everything added so far and writes tokenizer.json (does not change the counts).
  BpeTrainingResult train() const;
  const BpeTrainerOptions& options() const { return options_; }

 private:
  struct Pipeline;
  BpeTrainerOptions options_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unordered_map<std::string, uint64_t> word_counts_;  // raw bytes of a pre-token -> occurrences
  uint64_t words_ = 0;
  uint64_t text_bytes_ = 0;
};

// Fields of the tokenizer_config.json skeleton. Tokens not among the trained special tokens are written as null.
struct TokenizerConfigOptions {
  std::optional<std::string> bos_token;                 // null (Qwen2 has no BOS)
  std::optional<std::string> eos_token = "<|im_end|>";
  std::optional<std::string> pad_token = "<|endoftext|>";
  size_t model_max_length = 32768;
  std::optional<std::string> chat_template;             // `chorus train tokenizer` writes the Chorus template by default
};

// tokenizer_config.json text for a trained tokenizer (Qwen2Tokenizer fields, added_tokens_decoder with the ids).
std::string tokenizer_config_json(const BpeTrainingResult& result, const TokenizerConfigOptions& options = {});

// Creates dir when needed and writes dir/tokenizer.json and dir/tokenizer_config.json; throws std::runtime_error
// naming the path that cannot be created or written.
void write_tokenizer_files(const std::filesystem::path& dir, const BpeTrainingResult& result,
                           const TokenizerConfigOptions& options = {});

}  // namespace chorus::training
