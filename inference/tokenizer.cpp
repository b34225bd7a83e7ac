// Tokenizer pipeline: loads tokenizer.json into its components and runs them; decoding uses a per-id table of
// the bytes the decoder produces for each token.
#include "inference/tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <unordered_set>

#include "inference/bpe.h"
#include "inference/byte-level.h"
#include "inference/normalizer.h"
#include "inference/post-processor.h"
#include "inference/pretokenizer.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

enum class DecoderKind { none, byte_level };

// The decoder: null joins tokens with spaces; ByteLevel maps alphabet characters back to bytes.
DecoderKind parse_decoder(const JsonRef& config) {
  if (config.is_null()) return DecoderKind::none;
  config.expect_object();
  const std::string type = config.type();
  if (type == "ByteLevel") return DecoderKind::byte_level;
  if (type == "Sequence") {
    JsonRef list = config.at("decoders");
    if (list.size() == 0) return DecoderKind::none;
    for (size_t i = 0; i < list.size(); ++i) {
      JsonRef item = list.at(i);
      item.expect_object();
      std::string t = item.type();
      if (t != "ByteLevel") item.unsupported_type(t, "ByteLevel, or a Sequence of ByteLevel");
    }
    return DecoderKind::byte_level;
  }
  config.unsupported_type(type, "ByteLevel, Sequence");
}

std::vector<AddedToken> parse_added_tokens(const JsonRef& list) {
  std::vector<AddedToken> out;
  if (list.is_null()) return out;
  for (size_t i = 0; i < list.size(); ++i) {
    JsonRef item = list.at(i);
    item.expect_object();
    AddedToken t;
    t.id = static_cast<int32_t>(item.at("id").as_int(0, (1 << 24) - 1));
    t.content = item.string_at("content");
    if (t.content.empty()) item.at("content").fail("must not be empty");
    t.special = item.bool_or("special", false);
    t.single_word = item.bool_or("single_word", false);
    t.lstrip = item.bool_or("lstrip", false);
    t.rstrip = item.bool_or("rstrip", false);
    t.normalized = item.bool_or("normalized", !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pretokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<PostProcessor> post;
  AddedVocabulary added;
  DecoderKind decoder = DecoderKind::none;
  int32_t id_end = 0;
  std::vector<uint8_t> kind;       // id -> 0 unknown, 1 token, 2 special token
  std::vector<std::string> bytes;  // id -> what the decoder makes of the token alone
  size_t distinct_tokens = 0;

  // Pre-tokenizes and encodes normalized text.
  void encode_normalized(std::string_view text, std::vector<int32_t>& ids) const {
    if (text.empty()) return;
    PreTokens pt;
    pt.pieces.push_back(text);
    if (pretokenizer) pretokenizer->apply(pt);
    for (std::string_view piece : pt.pieces) model->encode(piece, pt.byte_level, ids);
  }

  // Normalizes a raw segment, splits it on normalized added tokens and encodes the rest.
  void encode_segment(std::string_view text, std::vector<int32_t>& ids) const {
    std::string buffer;
    std::string_view normalized = text;
    if (normalizer && normalizer->normalize(text, buffer)) normalized = buffer;
    if (!added.has_normalized()) {
      encode_normalized(normalized, ids);
      return;
    }
    std::vector<TextSegment> segments;
    added.split_normalized(normalized, segments);
    for (const TextSegment& s : segments) {
      if (s.id >= 0)
        ids.push_back(s.id);
      else
        encode_normalized(normalized.substr(s.begin, s.end - s.begin), ids);
    }
  }

  std::vector<int32_t> encode_raw(std::string_view text) const {
    std::string fixed;
    if (!utf8_is_valid(text)) {
      fixed = utf8_lossy(text);
      text = fixed;
    }
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 4);
    if (!added.has_raw()) {
      encode_segment(text, ids);
      return ids;
    }
    std::vector<TextSegment> segments;
    added.split_raw(text, segments);
    for (const TextSegment& s : segments) {
      if (s.id >= 0)
        ids.push_back(s.id);
      else
        encode_segment(text.substr(s.begin, s.end - s.begin), ids);
    }
    return ids;
  }

  const std::string* token_of(int32_t id) const {
    if (const AddedToken* t = added.by_id(id)) return &t->content;
    return model->id_to_token(id);
  }
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw TokenizerError(path.string() + ": read error");
  return from_json(text.str(), path.string());
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& source) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw TokenizerError(source + ": invalid JSON: " + e.what());
  }
  Tokenizer tok;
  Impl& t = *tok.impl_;
  t.source = source;
  try {
    JsonRef root(doc, source, "");
    root.expect_object();
    for (const char* field : {"truncation", "padding"})
      if (root.has(field)) root.get(field).fail("is not supported (only null)");
    t.normalizer = make_normalizer(root.get("normalizer"));
    t.pretokenizer = make_pretokenizer(root.get("pre_tokenizer"));
    t.model = BpeModel::from_json(root.at("model"));
    t.post = make_post_processor(root.get("post_processor"));
    t.decoder = parse_decoder(root.get("decoder"));
    t.added = AddedVocabulary(parse_added_tokens(root.get("added_tokens")), t.normalizer.get());
  } catch (const nlohmann::json::exception& e) {
    throw TokenizerError(source + ": " + e.what());
  }

  t.id_end = t.model->id_end();
  for (const AddedToken& a : t.added.tokens()) t.id_end = std::max(t.id_end, a.id + 1);
  t.kind.assign(t.id_end, 0);
  t.bytes.assign(t.id_end, std::string());
  std::unordered_set<std::string> special_contents;
  for (const AddedToken& a : t.added.tokens())
    if (a.special) special_contents.insert(a.content);
  std::unordered_set<std::string_view> distinct;
  for (int32_t id = 0; id < t.id_end; ++id) {
    const std::string* token = t.token_of(id);
    if (!token) continue;
    distinct.insert(*token);
    t.kind[id] = special_contents.count(*token) ? 2 : 1;
    if (t.decoder != DecoderKind::byte_level || !byte_level_decode(*token, t.bytes[id])) t.bytes[id] = *token;
  }
  t.distinct_tokens = distinct.size();
  return tok;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> ids = impl_->encode_raw(text);
  if (add_special_tokens && impl_->post) return impl_->post->process(ids, nullptr);
  return ids;
}

std::vector<int32_t> Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                            bool add_special_tokens) const {
  std::vector<int32_t> a = impl_->encode_raw(first);
  std::vector<int32_t> b = impl_->encode_raw(second);
  if (add_special_tokens && impl_->post) return impl_->post->process(a, &b);
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= t.id_end || t.kind[id] == 0) continue;
    if (skip_special_tokens && t.kind[id] == 2) continue;
    if (t.decoder == DecoderKind::none && !first) out.push_back(' ');
    out += t.bytes[id];
    first = false;
  }
  if (utf8_is_valid(out)) return out;
  return utf8_lossy(out);
}

std::string Tokenizer::token_bytes(int32_t id, bool first) const {
  const Impl& t = *impl_;
  if (id < 0 || id >= t.id_end || t.kind[id] == 0) return {};
  if (t.decoder == DecoderKind::none && !first) return " " + t.bytes[id];
  return t.bytes[id];
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* a = impl_->added.by_content(token)) return a->id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  const std::string* token = impl_->token_of(id);
  if (!token) return std::nullopt;
  return *token;
}

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  return with_added_tokens ? impl_->distinct_tokens : impl_->model->vocab_size();
}

int32_t Tokenizer::id_end() const { return impl_->id_end; }

bool Tokenizer::is_special(int32_t id) const { return id >= 0 && id < impl_->id_end && impl_->kind[id] == 2; }

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return impl_->added.tokens(); }

}  // namespace chorus::inference
