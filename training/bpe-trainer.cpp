// Byte-level BPE training (see bpe-trainer.h).
#include "training/bpe-trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <queue>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "inference/added-tokens.h"
#include "inference/byte-level.h"
#include "inference/normalizer.h"
#include "inference/pretokenizer.h"
#include "inference/tokenizer-json.h"
#include "inference/unicode.h"

namespace chorus::training {
namespace {

using inference::AddedToken;
using inference::AddedVocabulary;
using inference::JsonRef;
using inference::Normalizer;
using inference::PreTokenizer;
using inference::PreTokens;
using inference::TextSegment;
using ojson = nlohmann::ordered_json;

// The ByteLevel component as Qwen2's tokenizer.json writes it (pre-tokenizer, post-processor and decoder).
ojson byte_level_component() {
  return ojson{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
}

ojson normalizer_json() { return ojson{{"type", "NFC"}}; }

ojson pretokenizer_json(int digits_per_token) {
  ojson split = {{"type", "Split"},
                 {"pattern", {{"Regex", digits_per_token == 3 ? kLlama3Pattern : kQwen2Pattern}}},
                 {"behavior", "Isolated"},
                 {"invert", false}};
  return ojson{{"type", "Sequence"}, {"pretokenizers", ojson::array({split, byte_level_component()})}};
}

// Control tokens <|...|> are special (dropped by skip-special-tokens decoding); the others, such as <tool_call>,
// are not, as in Qwen2.5, so a decoded reply keeps its tool-call tags.
ojson added_token_json(int64_t id, const std::string& content) {
  const bool control = content.size() >= 4 && content.rfind("<|", 0) == 0 &&
                       content.compare(content.size() - 2, 2, "|>") == 0;
  return ojson{{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
               {"rstrip", false},   {"normalized", false}, {"special", control}};
}

// v dumped with indent 2, every line after the first indented by `level` more spaces (for embedding).
std::string indented(const ojson& v, int level) {
  std::string text = v.dump(2);
  std::string out;
  out.reserve(text.size() + 64);
  const std::string pad(static_cast<size_t>(level), ' ');
  for (char c : text) {
    out.push_back(c);
    if (c == '\n') out += pad;
  }
  return out;
}

std::string json_string(const std::string& s) { return ojson(s).dump(); }

uint64_t pair_key(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

struct Word {
  std::vector<uint32_t> symbols;
  uint64_t count = 0;
};

struct HeapEntry {
  uint64_t count;
  uint32_t a, b;
};

}  // namespace

std::vector<std::string> default_special_tokens() {
  return {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<tool_response>",
          "</tool_response>"};
}

// The run-time pieces that cut training text into words, built from the JSON that the tokenizer.json will hold.
struct BpeTrainer::Pipeline {
  nlohmann::json normalizer_config;
  nlohmann::json pretokenizer_config;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pretokenizer;
  AddedVocabulary added;
};

BpeTrainer::BpeTrainer(BpeTrainerOptions options) : options_(std::move(options)) {
  const size_t specials = options_.special_tokens.size();
  if (options_.vocab_size < 256 + specials)
    throw std::invalid_argument("vocab size " + std::to_string(options_.vocab_size) +
                                " is too small: it must be at least " + std::to_string(256 + specials) +
                                " (256 byte tokens + " + std::to_string(specials) + " special tokens)");
  if (options_.vocab_size > (size_t{1} << 24))
    throw std::invalid_argument("vocab size " + std::to_string(options_.vocab_size) + " is too large (at most " +
                                std::to_string(size_t{1} << 24) + ")");
  if (options_.min_frequency == 0) throw std::invalid_argument("min frequency must be at least 1");
  if (options_.digits_per_token != 1 && options_.digits_per_token != 3)
    throw std::invalid_argument("digits per token must be 1 (Qwen2-style) or 3 (Llama-3-style), got " +
                                std::to_string(options_.digits_per_token));
  std::set<std::string> seen;
  for (const auto& token : options_.special_tokens) {
    if (token.empty()) throw std::invalid_argument("a special token must not be empty");
    if (!inference::utf8_is_valid(token))
      throw std::invalid_argument("special token \"" + inference::utf8_lossy(token) + "\" is not valid UTF-8");
    if (!seen.insert(token).second) throw std::invalid_argument("special token \"" + token + "\" is listed twice");
  }

  pipeline_ = std::make_unique<Pipeline>();
  pipeline_->normalizer_config = nlohmann::json::parse(normalizer_json().dump());
  pipeline_->pretokenizer_config = nlohmann::json::parse(pretokenizer_json(options_.digits_per_token).dump());
  pipeline_->normalizer =
      inference::make_normalizer(JsonRef(pipeline_->normalizer_config, "bpe-trainer", "normalizer"));
  pipeline_->pretokenizer =
      inference::make_pretokenizer(JsonRef(pipeline_->pretokenizer_config, "bpe-trainer", "pre_tokenizer"));
  std::vector<AddedToken> tokens;
  for (size_t i = 0; i < specials; ++i) {
    AddedToken t;
    t.id = static_cast<int32_t>(i);  // any distinct ids: only used to tell tokens from text
    t.content = options_.special_tokens[i];
    t.special = true;
    tokens.push_back(std::move(t));
  }
  pipeline_->added = AddedVocabulary(std::move(tokens), pipeline_->normalizer.get());
}

BpeTrainer::~BpeTrainer() = default;
BpeTrainer::BpeTrainer(BpeTrainer&&) noexcept = default;
BpeTrainer& BpeTrainer::operator=(BpeTrainer&&) noexcept = default;

void BpeTrainer::add_text(std::string_view input) {
  text_bytes_ += input.size();
  std::string fixed;
  if (!inference::utf8_is_valid(input)) {  // the tokenizer reads invalid UTF-8 lossily; so does training
    fixed = inference::utf8_lossy(input);
    input = fixed;
  }
  std::vector<TextSegment> segments;
  if (pipeline_->added.has_raw())
    pipeline_->added.split_raw(input, segments);
  else
    segments.push_back({0, input.size(), -1});
  std::string normalized;
  for (const TextSegment& s : segments) {
    if (s.id >= 0 || s.end == s.begin) continue;
    std::string_view text = input.substr(s.begin, s.end - s.begin);
    if (pipeline_->normalizer && pipeline_->normalizer->normalize(text, normalized)) text = normalized;
    if (text.empty()) continue;
    PreTokens pt;
    pt.pieces.push_back(text);
    pipeline_->pretokenizer->apply(pt);
    if (!pt.byte_level) throw std::logic_error("bpe-trainer: the pre-tokenizer did not end with ByteLevel");
    for (std::string_view piece : pt.pieces) {
      if (piece.empty()) continue;
      ++word_counts_[std::string(piece)];
      ++words_;
    }
  }
}

void BpeTrainer::add_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error(path.string() + ": is a directory, not a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path.string() + ": read error");
  add_text(buffer.str());
}

BpeTrainingResult BpeTrainer::train() const {
  BpeTrainingResult result;
  result.special_tokens = options_.special_tokens;
  result.words = words_;
  result.word_types = word_counts_.size();
  result.text_bytes = text_bytes_;
  const size_t bpe_target = options_.vocab_size - options_.special_tokens.size();

  // Base alphabet: the 256 byte-level characters in code point order, which is GPT-2's bytes_to_unicode order.
  std::vector<std::pair<char32_t, int>> alphabet;
  for (int b = 0; b < 256; ++b) alphabet.emplace_back(inference::byte_level_char(static_cast<uint8_t>(b)), b);
  std::sort(alphabet.begin(), alphabet.end());
  std::vector<std::string> tokens;  // id -> vocab text (byte-level alphabet)
  std::unordered_map<std::string, uint32_t> token_ids;
  uint32_t byte_id[256];
  for (const auto& [cp, b] : alphabet) {
    std::string s;
    inference::utf8_append(s, cp);
    byte_id[b] = static_cast<uint32_t>(tokens.size());
    token_ids.emplace(s, static_cast<uint32_t>(tokens.size()));
    tokens.push_back(std::move(s));
  }
  // Merges may not produce a special token's text (the added token would shadow it).
  std::set<std::string> forbidden;
  for (const auto& s : options_.special_tokens) forbidden.insert(inference::byte_level_encode(s));

  // Words in a fixed order (sorted by bytes), so nothing depends on hash-table order.
  std::vector<std::pair<std::string_view, uint64_t>> sorted;
  sorted.reserve(word_counts_.size());
  for (const auto& [w, c] : word_counts_) sorted.emplace_back(w, c);
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words(sorted.size());
  std::unordered_map<uint64_t, uint64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<uint32_t>> where;  // pair -> words that contain (or once contained) it
  for (size_t w = 0; w < sorted.size(); ++w) {
    auto [text, count] = sorted[w];
    Word& word = words[w];
    word.count = count;
    word.symbols.reserve(text.size());
    for (char c : text) word.symbols.push_back(byte_id[static_cast<unsigned char>(c)]);
    for (size_t i = 0; i + 1 < word.symbols.size(); ++i) {
      uint64_t key = pair_key(word.symbols[i], word.symbols[i + 1]);
      pair_counts[key] += count;
      auto& list = where[key];
      if (list.empty() || list.back() != w) list.push_back(static_cast<uint32_t>(w));
    }
  }

  // Max-heap: higher count first; equal counts: smaller (left, right) vocab text first.
  auto lower = [&tokens](const HeapEntry& x, const HeapEntry& y) {  // true when x comes after y
    if (x.count != y.count) return x.count < y.count;
    if (x.a != y.a) {
      int c = tokens[x.a].compare(tokens[y.a]);
      if (c != 0) return c > 0;
    }
    return tokens[x.b].compare(tokens[y.b]) > 0;
  };
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, decltype(lower)> heap(lower);
  {
    std::vector<uint64_t> keys;
    keys.reserve(pair_counts.size());
    for (const auto& [key, count] : pair_counts) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (uint64_t key : keys)
      heap.push({pair_counts[key], static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu)});
  }

  std::vector<std::pair<uint32_t, uint32_t>> merges;
  std::vector<uint64_t> changed;
  std::vector<uint32_t> merged_symbols;
  while (tokens.size() < bpe_target) {
    if (heap.empty()) {
      result.stopped_early = "no pair of adjacent tokens is left to merge (every training word is one token)";
      break;
    }
    HeapEntry top = heap.top();
    heap.pop();
    const uint64_t key = pair_key(top.a, top.b);
    auto found = pair_counts.find(key);
    const uint64_t current = found == pair_counts.end() ? 0 : found->second;
    if (current != top.count) {  // stale entry: the count went down since it was pushed
      if (current > 0) heap.push({current, top.a, top.b});
      continue;
    }
    if (current < options_.min_frequency) {
      result.stopped_early = "the most frequent remaining pair occurs " + std::to_string(current) +
                             " time(s), below the minimum frequency " + std::to_string(options_.min_frequency);
      break;
    }
    std::string text = tokens[top.a] + tokens[top.b];
    if (forbidden.count(text)) {
      pair_counts.erase(found);
      continue;
    }
    uint32_t new_id;
    if (auto it = token_ids.find(text); it != token_ids.end()) {
      new_id = it->second;  // another pair already made this text: the merge maps to the existing token
    } else {
      new_id = static_cast<uint32_t>(tokens.size());
      token_ids.emplace(text, new_id);
      tokens.push_back(std::move(text));
    }
    merges.emplace_back(top.a, top.b);

    // Apply the merge in every word containing the pair, re-counting that word's pairs.
    std::vector<uint32_t> affected = std::move(where[key]);
    where.erase(key);
    changed.clear();
    for (uint32_t w : affected) {
      Word& word = words[w];
      auto& sym = word.symbols;
      bool contains = false;
      for (size_t i = 0; i + 1 < sym.size() && !contains; ++i) contains = sym[i] == top.a && sym[i + 1] == top.b;
      if (!contains) continue;
      for (size_t i = 0; i + 1 < sym.size(); ++i) pair_counts[pair_key(sym[i], sym[i + 1])] -= word.count;
      merged_symbols.clear();
      for (size_t i = 0; i < sym.size();) {
        if (i + 1 < sym.size() && sym[i] == top.a && sym[i + 1] == top.b) {
          merged_symbols.push_back(new_id);
          i += 2;
        } else {
          merged_symbols.push_back(sym[i]);
          ++i;
        }
      }
      sym.swap(merged_symbols);
      for (size_t i = 0; i + 1 < sym.size(); ++i) {
        uint64_t k = pair_key(sym[i], sym[i + 1]);
        pair_counts[k] += word.count;
        if (sym[i] == new_id || sym[i + 1] == new_id) {
          auto& list = where[k];
          if (list.empty() || list.back() != w) list.push_back(w);
          changed.push_back(k);
        }
      }
    }
    pair_counts.erase(key);
    // Pairs with the new token are the only ones whose counts went up: (re-)push them.
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (uint64_t k : changed) {
      uint64_t count = pair_counts[k];
      if (count > 0) heap.push({count, static_cast<uint32_t>(k >> 32), static_cast<uint32_t>(k & 0xffffffffu)});
    }
  }

  result.bpe_vocab_size = tokens.size();
  result.merges = merges.size();
  result.vocab_size = tokens.size() + options_.special_tokens.size();

  // tokenizer.json, laid out like the files Hugging Face writes (vocab and merges one entry per line).
  ojson added = ojson::array();
  for (size_t i = 0; i < options_.special_tokens.size(); ++i)
    added.push_back(added_token_json(static_cast<int64_t>(tokens.size() + i), options_.special_tokens[i]));
  std::string out;
  out.reserve(tokens.size() * 24 + merges.size() * 32 + 4096);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": " + indented(added, 2) + ",\n";
  out += "  \"normalizer\": " + indented(normalizer_json(), 2) + ",\n";
  out += "  \"pre_tokenizer\": " + indented(pretokenizer_json(options_.digits_per_token), 2) + ",\n";
  out += "  \"post_processor\": " + indented(byte_level_component(), 2) + ",\n";
  out += "  \"decoder\": " + indented(byte_level_component(), 2) + ",\n";
  out +=
      "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
      "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
      "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {";
  for (size_t id = 0; id < tokens.size(); ++id) {
    out += id == 0 ? "\n      " : ",\n      ";
    out += json_string(tokens[id]);
    out += ": ";
    out += std::to_string(id);
  }
  out += "\n    },\n    \"merges\": [";
  for (size_t i = 0; i < merges.size(); ++i) {
    out += i == 0 ? "\n      [" : ",\n      [";
    out += json_string(tokens[merges[i].first]);
    out += ", ";
    out += json_string(tokens[merges[i].second]);
    out += "]";
  }
  out += merges.empty() ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n";
  result.tokenizer_json = std::move(out);
  return result;
}

std::string tokenizer_config_json(const BpeTrainingResult& result, const TokenizerConfigOptions& options) {
  auto has = [&](const std::optional<std::string>& token) {
    return token && std::find(result.special_tokens.begin(), result.special_tokens.end(), *token) !=
                        result.special_tokens.end();
  };
  auto token_or_null = [&](const std::optional<std::string>& token) { return has(token) ? ojson(*token) : ojson(); };
  ojson decoder = ojson::object();
  ojson additional = ojson::array();
  for (size_t i = 0; i < result.special_tokens.size(); ++i) {
    const std::string& content = result.special_tokens[i];
    decoder[std::to_string(result.bpe_vocab_size + i)] = {{"content", content},   {"lstrip", false},
                                                          {"normalized", false}, {"rstrip", false},
                                                          {"single_word", false}, {"special", true}};
    if (content != options.eos_token && content != options.pad_token && content != options.bos_token)
      additional.push_back(content);
  }
  ojson config = {{"add_bos_token", false}, {"add_prefix_space", false}, {"added_tokens_decoder", decoder},
                  {"additional_special_tokens", additional}, {"bos_token", token_or_null(options.bos_token)}};
  if (options.chat_template) config["chat_template"] = *options.chat_template;
  config["clean_up_tokenization_spaces"] = false;
  config["eos_token"] = token_or_null(options.eos_token);
  config["errors"] = "replace";
  config["model_max_length"] = options.model_max_length;
  config["pad_token"] = token_or_null(options.pad_token);
  config["split_special_tokens"] = false;
  config["tokenizer_class"] = "Qwen2Tokenizer";
  config["unk_token"] = nullptr;
  return config.dump(2) + "\n";
}

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error(path.string() + ": cannot write (" + std::strerror(errno) + ")");
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": write failed");
}

}  // namespace

void write_tokenizer_files(const std::filesystem::path& dir, const BpeTrainingResult& result,
                           const TokenizerConfigOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir.string() + ": cannot create the output directory (" + ec.message() + ")");
  if (!std::filesystem::is_directory(dir)) throw std::runtime_error(dir.string() + ": is not a directory");
  write_file(dir / "tokenizer.json", result.tokenizer_json);
  write_file(dir / "tokenizer_config.json", tokenizer_config_json(result, options));
}

}  // namespace chorus::training
