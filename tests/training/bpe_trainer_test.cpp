// BPE tokenizer training: the written tokenizer.json loads with our Tokenizer, round-trips any text, keeps the
// special tokens whole, is deterministic, respects the pre-tokenizer, and (fixture made with Hugging Face's JS
// tokenizer) encodes exactly like Hugging Face.
#include "training/bpe-trainer.h"

#include "inference/byte-level.h"
#include "inference/pretokenizer.h"
#include "inference/tokenizer-json.h"
#include "inference/tokenizer.h"
#include "inference/unicode.h"
#include "tests/support/paths.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace chorus::training {
namespace {

using inference::Tokenizer;

// A few KB of varied, deterministic text: words, numbers, punctuation, newlines, accented letters, CJK, emoji.
std::string small_corpus(int sentences = 300, uint32_t seed = 7) {
  static const char* const subjects[] = {"the cat", "the model", "a café owner", "the tokenizer", "our agent",
                                         "the weather", "東京の店", "the server", "Zoë", "the engineer"};
  static const char* const verbs[] = {"reads", "writes", "encodes", "sees", "calls", "finds", "likes", "trains"};
  static const char* const objects[] = {"the book", "the file", "日本語のテキスト", "a tool call", "the numbers",
                                        "the data", "über-long words", "the news", "naïve résumés", "🙂 emoji"};
  static const char* const tails[] = {".", "!", "?", "...", ";", ":", ",", " (really).", " -- twice.", "\"."};
  uint32_t state = seed;
  auto next = [&state](uint32_t n) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % n;
  };
  std::string out;
  for (int i = 0; i < sentences; ++i) {
    std::string s = subjects[next(10)];
    if (i % 4 == 0) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    s += " ";
    s += verbs[next(8)];
    s += " ";
    s += objects[next(10)];
    if (next(3) == 0) s += " at " + std::to_string(next(24)) + ":" + std::to_string(10 + next(50));
    if (next(4) == 0) s += " for $" + std::to_string(next(10000)) + "." + std::to_string(10 + next(90));
    if (next(2) == 0) {  // an invented word or two: many distinct words, so merges do not run out
      static const char* const syllables[] = {"ka", "lo", "mi", "stra", "ven", "qu", "ob", "ith", "ré", "zu",
                                              "pe", "dor", "an", "shi", "gl", "ex", "ty", "ön", "wa", "ric"};
      for (uint32_t w = 0, n = 1 + next(2); w < n; ++w) {
        s += " ";
        for (uint32_t k = 0, len = 1 + next(3); k < len; ++k) s += syllables[next(20)];
      }
    }
    s += tails[next(10)];
    out += s;
    out += next(5) == 0 ? "\n\n" : next(3) == 0 ? "\n" : " ";
  }
  return out;
}

BpeTrainingResult train_on(const std::vector<std::string>& texts, size_t vocab_size, uint64_t min_frequency = 2,
                           std::vector<std::string> specials = default_special_tokens()) {
  BpeTrainerOptions options;
  options.vocab_size = vocab_size;
  options.min_frequency = min_frequency;
  options.special_tokens = std::move(specials);
  BpeTrainer trainer(options);
  for (const auto& t : texts) trainer.add_text(t);
  return trainer.train();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

const std::vector<std::string> kHeldOut = {
    "A completely different sentence, with UNSEEN words: xylophone, quizzical, jazz.",
    "Ωμέγα ☃ 🤖🚀 ñandú — ‘quotes’ «guillemets» 한국어 текст عربى",
    "tabs\tand\r\nwindows line endings\n\n\n   indented   spaces   ",
    "numbers 3.14159 1,000,000 0x7fff -42 1e-9",
    "{\"name\": \"calculator\", \"arguments\": {\"expression\": \"2+2\"}}",
    "",
    " ",
    "\n",
    "don't won't I'm we'll they'd it's YOU'RE",
    "\x7f\x01 control \x1b[0m bytes",
};

TEST(BpeTrainer, WritesALoadableTokenizerOfExactlyTheRequestedSize) {
  auto result = train_on({small_corpus()}, 480);
  EXPECT_EQ(result.stopped_early, "");
  EXPECT_EQ(result.vocab_size, 480u);
  EXPECT_EQ(result.bpe_vocab_size, 480u - 7u);
  EXPECT_GE(result.merges, result.bpe_vocab_size - 256);
  auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  EXPECT_EQ(tokenizer.vocab_size(), 480u);
  EXPECT_EQ(tokenizer.vocab_size(false), 473u);
  EXPECT_EQ(tokenizer.id_end(), 480);

  auto doc = nlohmann::json::parse(result.tokenizer_json);
  EXPECT_EQ(doc["model"]["type"], "BPE");
  EXPECT_EQ(doc["model"]["ignore_merges"], false);
  EXPECT_EQ(doc["model"]["byte_fallback"], false);
  EXPECT_EQ(doc["model"]["merges"].size(), result.merges);
  EXPECT_TRUE(doc["model"]["merges"][0].is_array());
  EXPECT_EQ(doc["normalizer"]["type"], "NFC");
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], kQwen2Pattern);
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][0]["behavior"], "Isolated");
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][1]["use_regex"], false);
  EXPECT_EQ(doc["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(doc["post_processor"]["trim_offsets"], false);
  // Ids 0..255: the byte alphabet in GPT-2 order ('!' first, then 'Ā' = byte 0 after the printable ones).
  EXPECT_EQ(doc["model"]["vocab"]["!"], 0);
  EXPECT_EQ(doc["model"]["vocab"]["Ā"], 188);
  EXPECT_EQ(doc["model"]["vocab"]["Ġ"], 188 + 32);
  // Added tokens: after the BPE vocabulary, not normalized; only the <|...|> control tokens special (Qwen2.5).
  ASSERT_EQ(doc["added_tokens"].size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(doc["added_tokens"][i]["id"], 473 + i);
    EXPECT_EQ(doc["added_tokens"][i]["content"], default_special_tokens()[i]);
    EXPECT_EQ(doc["added_tokens"][i]["special"], default_special_tokens()[i].rfind("<|", 0) == 0);
    EXPECT_EQ(doc["added_tokens"][i]["normalized"], false);
  }
}

TEST(BpeTrainer, RoundTripsHeldOutTextByteExactly) {
  auto result = train_on({small_corpus()}, 480);
  auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  for (const std::string& text : kHeldOut) {
    auto ids = tokenizer.encode(text, true);
    EXPECT_EQ(tokenizer.decode(ids), text) << text;
  }
  // The training text itself, and every byte value through the byte alphabet.
  std::string corpus = small_corpus();
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(corpus)), corpus);
  std::string all_ascii;
  for (int c = 1; c < 128; ++c) all_ascii.push_back(static_cast<char>(c));
  EXPECT_EQ(tokenizer.decode(tokenizer.encode(all_ascii)), all_ascii);
  // Training made the text shorter in tokens than in bytes.
  EXPECT_LT(tokenizer.encode(corpus).size() * 2, corpus.size());
}

TEST(BpeTrainer, SpecialTokensAreSingleIdsAndNeverLearnedAsMerges) {
  // Chat-formatted training text: the special strings are the most frequent strings, but they are cut out
  // before counting like the tokenizer cuts them out before encoding.
  std::string chat;
  for (int i = 0; i < 60; ++i)
    chat += "<|im_start|>user\nWhat is " + std::to_string(i) + " + 2?<|im_end|>\n<|im_start|>assistant\n" +
            "<tool_call>\n{\"name\": \"calculator\"}\n</tool_call><|im_end|>\n<|endoftext|>";
  auto result = train_on({chat, small_corpus()}, 500);
  auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  const auto specials = default_special_tokens();
  for (size_t i = 0; i < specials.size(); ++i) {
    auto ids = tokenizer.encode(specials[i]);
    ASSERT_EQ(ids.size(), 1u) << specials[i];
    EXPECT_EQ(ids[0], static_cast<int32_t>(result.bpe_vocab_size + i));
    EXPECT_EQ(tokenizer.is_special(ids[0]), specials[i].rfind("<|", 0) == 0) << specials[i];
  }
  auto ids = tokenizer.encode("<|im_start|>assistant\n<tool_call>{}</tool_call><|im_end|>");
  EXPECT_EQ(ids.front(), *tokenizer.token_to_id("<|im_start|>"));
  EXPECT_EQ(ids.back(), *tokenizer.token_to_id("<|im_end|>"));
  auto doc = nlohmann::json::parse(result.tokenizer_json);
  for (const auto& [token, id] : doc["model"]["vocab"].items()) {
    EXPECT_EQ(token.find("im_start"), std::string::npos) << token;
    EXPECT_EQ(token.find("tool_call"), std::string::npos) << token;
  }
}

TEST(BpeTrainer, IsDeterministic) {
  auto a = train_on({small_corpus(), small_corpus(80, 3)}, 650);
  auto b = train_on({small_corpus(), small_corpus(80, 3)}, 650);
  EXPECT_EQ(a.tokenizer_json, b.tokenizer_json);
  // Word counts do not depend on document order either.
  auto c = train_on({small_corpus(80, 3), small_corpus()}, 650);
  EXPECT_EQ(a.tokenizer_json, c.tokenizer_json);
}

TEST(BpeTrainer, TheMostFrequentWordBecomesOneToken) {
  std::string text = small_corpus();
  for (int i = 0; i < 400; ++i) text += " hippo";
  auto result = train_on({text}, 400);
  auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  EXPECT_EQ(tokenizer.encode(" hippo").size(), 1u);
  EXPECT_TRUE(tokenizer.token_to_id("Ġhippo").has_value());
  // The first merge is the most frequent pair: the five pairs of " hippo" tie (400 each, more than any pair of
  // the rest of the corpus) and "h i" is the smallest of them.
  auto doc = nlohmann::json::parse(result.tokenizer_json);
  EXPECT_EQ(doc["model"]["merges"][0], nlohmann::json::array({"h", "i"}));
}

TEST(BpeTrainer, TiesAreBrokenByTheSmallerPair) {
  // "ab" and "cd" occur equally often: "a b" (smaller) is merged first.
  auto result = train_on({"cd ab cd ab"}, 258, 1, {});
  auto doc = nlohmann::json::parse(result.tokenizer_json);
  ASSERT_EQ(doc["model"]["merges"].size(), 2u);
  EXPECT_EQ(doc["model"]["merges"][0], nlohmann::json::array({"a", "b"}));
}

TEST(BpeTrainer, MergesRespectThePreTokenizer) {
  auto result = train_on({small_corpus(600)}, 1200, 1);
  auto doc = nlohmann::json::parse(result.tokenizer_json);
  inference::JsonRef ref(doc["pre_tokenizer"], "tokenizer.json", "pre_tokenizer");
  auto pretokenizer = inference::make_pretokenizer(ref);
  int checked = 0;
  for (const auto& [token, id] : doc["model"]["vocab"].items()) {
    std::string raw;
    ASSERT_TRUE(inference::byte_level_decode(token, raw)) << token;
    if (!inference::utf8_is_valid(raw) || raw.size() < 2) continue;
    // A token is part of one pre-token, so pre-tokenizing its text alone leaves it whole.
    inference::PreTokens pt;
    pt.pieces.push_back(raw);
    pretokenizer->apply(pt);
    EXPECT_EQ(pt.pieces.size(), 1u) << "token " << token << " spans a pre-token boundary";
    // Explicitly: digits are pre-tokens on their own, and a space before a letter starts a pre-token.
    for (size_t i = 0; i < raw.size(); ++i) {
      EXPECT_FALSE(raw[i] >= '0' && raw[i] <= '9') << token;
      if (i > 0 && raw[i] == ' ' && i + 1 < raw.size()) {
        EXPECT_FALSE(std::isalpha(static_cast<unsigned char>(raw[i + 1]))) << token;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 500);
}

// digits_per_token = 3: numbers become Llama-3-style groups of up to 3 digits, learned as single tokens when
// frequent, and a group never crosses into the next one.
TEST(BpeTrainer, DigitGroupsOfThreeBecomeTokens) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "call 1234567 or 9876 now, then 42. ";
  BpeTrainerOptions options;
  options.vocab_size = 400;
  options.digits_per_token = 3;
  BpeTrainer trainer(options);
  trainer.add_text(text);
  const auto result = trainer.train();
  EXPECT_EQ(nlohmann::json::parse(result.tokenizer_json)["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"],
            kLlama3Pattern);
  const auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  std::vector<std::string> pieces;
  for (int32_t id : tokenizer.encode("1234567 9876 42")) pieces.push_back(tokenizer.token_bytes(id, false));
  EXPECT_EQ(pieces, (std::vector<std::string>{"123", "456", "7", " ", "987", "6", " ", "42"}));
  // The default (Qwen2): one token per digit.
  const auto qwen2 = Tokenizer::from_json(train_on({text}, 400).tokenizer_json);
  EXPECT_EQ(qwen2.encode("1234567").size(), 7u);
  options.digits_per_token = 2;
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
}

TEST(BpeTrainer, StopsEarlyWithAReasonWhenMergesRunOut) {
  auto result = train_on({"hello hello hello world"}, 1000, 1);
  EXPECT_NE(result.stopped_early, "");
  EXPECT_LT(result.vocab_size, 1000u);
  auto tokenizer = Tokenizer::from_json(result.tokenizer_json);
  EXPECT_EQ(tokenizer.vocab_size(), result.vocab_size);
  EXPECT_EQ(tokenizer.encode("hello").size(), 1u);
  EXPECT_EQ(tokenizer.encode(" world").size(), 1u);

  auto frequent_only = train_on({"hello hello hello world"}, 1000, 3);
  EXPECT_NE(frequent_only.stopped_early.find("minimum frequency 3"), std::string::npos) << frequent_only.stopped_early;
  EXPECT_FALSE(Tokenizer::from_json(frequent_only.tokenizer_json).token_to_id("Ġworld").has_value());
}

TEST(BpeTrainer, RejectsBadOptions) {
  BpeTrainerOptions options;
  options.vocab_size = 262;  // 256 + 7 specials needed
  try {
    BpeTrainer trainer(options);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("at least 263"), std::string::npos) << e.what();
  }
  options.vocab_size = 263;
  EXPECT_NO_THROW(BpeTrainer{options});
  options.special_tokens = {"<a>", "<a>"};
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
  options.special_tokens = {""};
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
  options.special_tokens = {};
  options.min_frequency = 0;
  EXPECT_THROW(BpeTrainer{options}, std::invalid_argument);
  options.min_frequency = 1;
  BpeTrainer trainer(options);
  EXPECT_THROW(trainer.add_file("/nonexistent/chorus-corpus.txt"), std::runtime_error);
}

TEST(BpeTrainer, WritesTokenizerAndConfigFiles) {
  testing::TempDir dir("bpe-trainer");
  auto result = train_on({small_corpus()}, 400);
  TokenizerConfigOptions config;
  config.chat_template = "{{ messages }}";
  config.model_max_length = 4096;
  write_tokenizer_files(dir / "out", result, config);
  EXPECT_EQ(read_file(dir / "out/tokenizer.json"), result.tokenizer_json);
  auto tokenizer = Tokenizer::from_file(dir / "out/tokenizer.json");
  EXPECT_EQ(tokenizer.vocab_size(), 400u);
  auto cfg = nlohmann::json::parse(read_file(dir / "out/tokenizer_config.json"));
  EXPECT_TRUE(cfg["bos_token"].is_null());
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  EXPECT_EQ(cfg["pad_token"], "<|endoftext|>");
  EXPECT_EQ(cfg["model_max_length"], 4096);
  EXPECT_EQ(cfg["chat_template"], "{{ messages }}");
  EXPECT_EQ(cfg["tokenizer_class"], "Qwen2Tokenizer");
  EXPECT_EQ(cfg["added_tokens_decoder"][std::to_string(result.bpe_vocab_size + 2)]["content"], "<|im_end|>");
  // Without a template the key is absent (`chorus train tokenizer` passes the Chorus template by default).
  auto bare = nlohmann::json::parse(tokenizer_config_json(result));
  EXPECT_FALSE(bare.contains("chat_template"));
  EXPECT_THROW(write_tokenizer_files("/proc/chorus-cannot-write-here", result), std::runtime_error);
}

// tests/data/tokenizer-trainer: a tokenizer trained by `chorus train tokenizer` on ~1 MB of text, held-out texts
// (one JSON string per line), and the ids Hugging Face's @huggingface/tokenizers gives for them (see the README).
TEST(BpeTrainer, TrainedTokenizerEncodesLikeHuggingFace) {
  const auto dir = testing::test_data_dir() / "tokenizer-trainer";
  auto tokenizer = Tokenizer::from_file(dir / "tokenizer.json");
  auto lines = split_lines(read_file(dir / "heldout.jsonl"));
  auto expected = split_lines(read_file(dir / "hf_ids.jsonl"));
  ASSERT_EQ(lines.size(), expected.size());
  ASSERT_GT(lines.size(), 500u);
  size_t matched = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto text = nlohmann::json::parse(lines[i]).get<std::string>();
    auto want = nlohmann::json::parse(expected[i]).get<std::vector<int32_t>>();
    auto got = tokenizer.encode(text, false);
    EXPECT_EQ(got, want) << "text " << i + 1 << ": " << lines[i];
    matched += got == want;
  }
  EXPECT_EQ(matched, lines.size());
}

// The tokenizer `scripts/train-chorus-tiny` trained on the curriculum up to run 8 (vocab 3,192, digit groups of 3)
// on 141 texts it was not trained on, against the ids of @huggingface/tokenizers (tests/data/chorus-tiny/README.md).
TEST(BpeTrainer, CurriculumTokenizerEncodesLikeHuggingFace) {
  const auto dir = testing::test_data_dir() / "chorus-tiny";
  auto tokenizer = Tokenizer::from_file(dir / "tokenizer.json");
  auto lines = split_lines(read_file(dir / "heldout.jsonl"));
  auto expected = split_lines(read_file(dir / "hf_ids.jsonl"));
  ASSERT_EQ(lines.size(), expected.size());
  ASSERT_EQ(lines.size(), 141u);
  const auto doc = nlohmann::json::parse(read_file(dir / "tokenizer.json"));
  EXPECT_EQ(doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"], kLlama3Pattern);
  int long_numbers = 0;  // texts where the digit grouping matters
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto text = nlohmann::json::parse(lines[i]).get<std::string>();
    EXPECT_EQ(tokenizer.encode(text, false), nlohmann::json::parse(expected[i]).get<std::vector<int32_t>>())
        << "text " << i + 1 << ": " << lines[i].substr(0, 200);
    long_numbers += std::regex_search(text, std::regex("[0-9]{4}"));
  }
  EXPECT_GT(long_numbers, 20);
}

}  // namespace
}  // namespace chorus::training
