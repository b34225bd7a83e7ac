// BPE: pre-token -> initial symbols (bytes or characters) -> repeatedly merge the adjacent pair with the lowest
// rank, leftmost first (what Hugging Face's min-heap of (rank, position) does). Short words use a linear scan
// over a small rank array; long ones a heap over a linked list of symbols.
#include "inference/bpe.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <mutex>
#include <unordered_map>

#include "inference/byte-level.h"
#include "inference/tokenizer-json.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

constexpr uint32_t kNoRank = UINT32_MAX;
constexpr size_t kCacheCapacity = 10000;  // entries per cache, as in Hugging Face tokenizers
constexpr size_t kCacheMaxPiece = 256;     // longer pre-tokens are not cached
constexpr size_t kLinearMax = 64;         // words up to this many symbols use the linear merge loop

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// (left id, right id) -> (rank, merged id), open addressing.
class MergeTable {
 public:
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t rank = kNoRank;
    int32_t id = -1;
  };

  void reserve(size_t n) {
    size_t cap = 16;
    bits_ = 4;
    while (cap < n + n / 2) {
      cap <<= 1;
      ++bits_;
    }
    slots_.assign(cap, Slot{});
    count_ = 0;
  }
  // Later duplicates overwrite earlier ones (as a Rust HashMap collected from the list does).
  void insert(int32_t a, int32_t b, uint32_t rank, int32_t id) {
    uint64_t key = make_key(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = index(key);; i = (i + 1) & mask) {
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, rank, id};
        ++count_;
        return;
      }
      if (slots_[i].key == key) {
        slots_[i].rank = rank;
        slots_[i].id = id;
        return;
      }
    }
  }
  const Slot* find(int32_t a, int32_t b) const {
    uint64_t key = make_key(a, b);
    size_t mask = slots_.size() - 1;
    for (size_t i = index(key);; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s;
      if (s.key == kEmpty) return nullptr;
    }
  }
  uint32_t rank(int32_t a, int32_t b, int32_t& id) const {
    const Slot* s = find(a, b);
    if (!s) {
      id = -1;
      return kNoRank;
    }
    id = s->id;
    return s->rank;
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t make_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  size_t index(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits_)); }

  std::vector<Slot> slots_;
  int bits_ = 4;
  size_t count_ = 0;
};

}  // namespace

struct BpeModel::Impl {
  StringMap vocab;
  std::vector<const std::string*> tokens;  // id -> vocabulary entry (nullptr for unused ids)
  MergeTable merges;
  std::optional<int32_t> unk_id;
  std::string prefix, suffix;  // continuing_subword_prefix, end_of_word_suffix ("" = none)
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  // Byte-level fast path: the id of each byte's alphabet character, and the raw-byte form of the vocabulary.
  bool byte_fast = false;
  std::array<int32_t, 256> byte_ids{};
  StringMap byte_vocab;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> cache[2];

  // The symbols of a word written as text (characters, with prefix/suffix), following Hugging Face's
  // merge_word: unknown characters become byte-fallback tokens, the unknown token (fused if fuse_unk), or
  // are dropped when there is no unknown token.
  void text_symbols(std::string_view w, std::vector<int32_t>& syms) const {
    int32_t pending_unk = -1;  // an unknown token not yet emitted (fused with following unknowns)
    std::string s;
    size_t pos = 0;
    while (pos < w.size()) {
      size_t start = pos;
      pos += std::min(utf8_sequence_length(static_cast<unsigned char>(w[pos])), w.size() - pos);
      s.clear();
      if (start > 0) s += prefix;
      s.append(w.substr(start, pos - start));
      if (pos == w.size()) s += suffix;
      auto it = vocab.find(std::string_view(s));
      if (it != vocab.end()) {
        if (pending_unk >= 0) syms.push_back(pending_unk);
        pending_unk = -1;
        syms.push_back(it->second);
        continue;
      }
      if (byte_fallback) {
        std::vector<int32_t> bytes;
        for (char c : s) {
          static const char hex[] = "0123456789ABCDEF";
          auto u = static_cast<unsigned char>(c);
          std::string name = std::string("<0x") + hex[u >> 4] + hex[u & 15] + ">";
          auto b = vocab.find(std::string_view(name));
          if (b == vocab.end()) {
            bytes.clear();
            break;
          }
          bytes.push_back(b->second);
        }
        if (!bytes.empty()) {
          syms.insert(syms.end(), bytes.begin(), bytes.end());
          continue;
        }
      }
      if (unk_id) {
        if (pending_unk >= 0 && !fuse_unk) syms.push_back(pending_unk);
        pending_unk = *unk_id;
      }
    }
    if (pending_unk >= 0) syms.push_back(pending_unk);
  }

  void merge_linear(std::vector<int32_t>& syms) const {
    const size_t n0 = syms.size();
    std::array<int32_t, kLinearMax> ids{};
    std::array<uint32_t, kLinearMax> ranks{};  // ranks[i]: pair (i, i+1)
    std::array<int32_t, kLinearMax> merged{};
    std::copy(syms.begin(), syms.end(), ids.begin());
    size_t n = n0;
    for (size_t i = 0; i + 1 < n; ++i) ranks[i] = merges.rank(ids[i], ids[i + 1], merged[i]);
    while (n > 1) {
      size_t best = 0;
      uint32_t best_rank = kNoRank;
      for (size_t i = 0; i + 1 < n; ++i)
        if (ranks[i] < best_rank) {
          best_rank = ranks[i];
          best = i;
        }
      if (best_rank == kNoRank) break;
      ids[best] = merged[best];
      for (size_t i = best + 1; i + 1 < n; ++i) {
        ids[i] = ids[i + 1];
        ranks[i] = ranks[i + 1];
        merged[i] = merged[i + 1];
      }
      --n;
      if (best + 1 < n) ranks[best] = merges.rank(ids[best], ids[best + 1], merged[best]);
      if (best > 0) ranks[best - 1] = merges.rank(ids[best - 1], ids[best], merged[best - 1]);
    }
    syms.assign(ids.begin(), ids.begin() + n);
  }

  void merge_heap(std::vector<int32_t>& syms) const {
    // Symbols in a linked list; each knows the rank and result of merging it with its right neighbour.
    struct Sym {
      int32_t id;
      int32_t prev, next;
      uint32_t rank;  // of the pair (this, next); kNoRank when none or removed
      int32_t merged;
    };
    // Heap entries are (rank << 32 | position): the smallest is the lowest rank, leftmost on ties. An entry
    // is current while its symbol still holds that rank (one rank means one pair of ids, hence one merge).
    const auto n = static_cast<int32_t>(syms.size());
    thread_local std::vector<Sym> list;
    thread_local std::vector<uint64_t> heap;
    list.resize(n);
    heap.clear();
    const std::greater<uint64_t> later;
    for (int32_t i = 0; i < n; ++i) list[i] = {syms[i], i - 1, i + 1 < n ? i + 1 : -1, kNoRank, -1};
    auto update = [&](int32_t pos, bool push) {
      Sym& s = list[pos];
      s.rank = s.next >= 0 ? merges.rank(s.id, list[s.next].id, s.merged) : kNoRank;
      if (s.rank == kNoRank) return;
      heap.push_back((static_cast<uint64_t>(s.rank) << 32) | static_cast<uint32_t>(pos));
      if (push) std::push_heap(heap.begin(), heap.end(), later);
    };
    for (int32_t i = 0; i + 1 < n; ++i) update(i, false);
    std::make_heap(heap.begin(), heap.end(), later);
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const uint64_t top = heap.back();
      heap.pop_back();
      const auto pos = static_cast<int32_t>(top & 0xFFFFFFFFu);
      Sym& left = list[pos];
      if (left.rank != static_cast<uint32_t>(top >> 32)) continue;  // stale
      Sym& right = list[left.next];
      left.id = left.merged;
      left.next = right.next;
      right.id = -1;
      right.rank = kNoRank;
      if (left.next >= 0) list[left.next].prev = pos;
      if (left.prev >= 0) update(left.prev, true);
      update(pos, true);
    }
    syms.clear();
    for (int32_t i = 0; i >= 0 && i < n; i = list[i].next) syms.push_back(list[i].id);
  }

  void merge(std::vector<int32_t>& syms) const {
    if (syms.size() < 2) return;
    if (syms.size() <= kLinearMax)
      merge_linear(syms);
    else
      merge_heap(syms);
  }

  // The ids of one pre-token, without the cache.
  void compute(std::string_view piece, bool byte_level, std::vector<int32_t>& out) const {
    if (ignore_merges) {
      const StringMap& map = byte_level ? byte_vocab : vocab;
      auto it = map.find(piece);
      if (it != map.end()) {
        out.push_back(it->second);
        return;
      }
    }
    thread_local std::vector<int32_t> syms;
    syms.clear();
    if (byte_level) {
      for (char c : piece) syms.push_back(byte_ids[static_cast<unsigned char>(c)]);
    } else {
      text_symbols(piece, syms);
    }
    merge(syms);
    out.insert(out.end(), syms.begin(), syms.end());
  }
};

BpeModel::BpeModel() : impl_(std::make_unique<Impl>()) {}
BpeModel::~BpeModel() = default;

std::unique_ptr<BpeModel> BpeModel::from_json(const JsonRef& config) {
  config.expect_object();
  if (config.has("type")) {
    std::string type = config.type();
    if (type != "BPE") config.unsupported_type(type, "BPE");
  }
  std::unique_ptr<BpeModel> model(new BpeModel());
  Impl& m = *model->impl_;

  JsonRef dropout = config.get("dropout");
  if (!dropout.is_null() && !(dropout.value().is_number() && dropout.value().get<double>() == 0.0))
    dropout.fail("is not supported (only null: BPE dropout is for training)");

  JsonRef vocab = config.at("vocab");
  vocab.expect_object();
  m.vocab.reserve(vocab.value().size());
  int32_t id_end = 0;
  // Ids index a table, so they may not be arbitrarily sparse.
  const int64_t max_id = std::max<int64_t>(2 * static_cast<int64_t>(vocab.value().size()), 1 << 20);
  for (auto it = vocab.value().begin(); it != vocab.value().end(); ++it) {
    JsonRef entry(it.value(), config.file(), vocab.path() + "[\"" + it.key() + "\"]");
    auto id = static_cast<int32_t>(entry.as_int(0, max_id));
    m.vocab[it.key()] = id;
    id_end = std::max(id_end, id + 1);
  }
  m.tokens.assign(id_end, nullptr);
  for (const auto& [token, id] : m.vocab) m.tokens[id] = &token;

  m.prefix = config.optional_string("continuing_subword_prefix").value_or("");
  m.suffix = config.optional_string("end_of_word_suffix").value_or("");
  m.fuse_unk = config.bool_or("fuse_unk", false);
  m.byte_fallback = config.bool_or("byte_fallback", false);
  m.ignore_merges = config.bool_or("ignore_merges", false);
  if (auto unk = config.optional_string("unk_token")) {
    auto it = m.vocab.find(*unk);
    if (it == m.vocab.end()) config.get("unk_token").fail("\"" + *unk + "\" is not in model.vocab");
    m.unk_id = it->second;
  }

  JsonRef merges = config.get("merges");
  if (!merges.is_null()) {
    merges.expect_array();
    const size_t count = merges.size();
    m.merges.reserve(count);
    std::string merged;
    for (size_t i = 0; i < count; ++i) {
      JsonRef item = merges.at(i);
      std::string a, b;
      if (item.value().is_string()) {
        const std::string& s = item.value().get_ref<const std::string&>();
        size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos || space == 0 ||
            space + 1 == s.size())
          item.fail("\"" + s + "\" must be two tokens separated by one space");
        a = s.substr(0, space);
        b = s.substr(space + 1);
      } else if (item.value().is_array()) {
        if (item.size() != 2) item.fail("must be a pair of tokens, not " + std::to_string(item.size()) + " elements");
        a = item.at(size_t{0}).as_string();
        b = item.at(size_t{1}).as_string();
      } else {
        item.fail("must be a string \"a b\" or a pair [\"a\", \"b\"]");
      }
      auto ia = m.vocab.find(a);
      if (ia == m.vocab.end()) item.fail("token \"" + a + "\" is not in model.vocab");
      auto ib = m.vocab.find(b);
      if (ib == m.vocab.end()) item.fail("token \"" + b + "\" is not in model.vocab");
      std::string_view tail = b;
      if (!m.prefix.empty() && tail.starts_with(m.prefix)) tail.remove_prefix(m.prefix.size());
      merged.assign(a).append(tail);
      auto im = m.vocab.find(merged);
      if (im == m.vocab.end()) item.fail("merged token \"" + merged + "\" is not in model.vocab");
      m.merges.insert(ia->second, ib->second, static_cast<uint32_t>(i), im->second);
    }
  }

  // Byte-level fast path: possible when every alphabet character is a token and there is no prefix/suffix.
  m.byte_fast = m.prefix.empty() && m.suffix.empty();
  for (int b = 0; b < 256 && m.byte_fast; ++b) {
    std::string ch;
    utf8_append(ch, byte_level_char(static_cast<uint8_t>(b)));
    auto it = m.vocab.find(ch);
    if (it == m.vocab.end())
      m.byte_fast = false;
    else
      m.byte_ids[b] = it->second;
  }
  if (m.byte_fast && m.ignore_merges) {
    m.byte_vocab.reserve(m.vocab.size());
    std::string raw;
    for (const auto& [token, id] : m.vocab) {
      raw.clear();
      if (byte_level_decode(token, raw)) m.byte_vocab.emplace(raw, id);
    }
  }
  return model;
}

void BpeModel::encode(std::string_view piece, bool byte_level, std::vector<int32_t>& ids) const {
  const Impl& m = *impl_;
  if (piece.empty()) return;
  if (byte_level && !m.byte_fast) {
    std::string text = byte_level_encode(piece);
    encode(text, false, ids);
    return;
  }
  const bool cacheable = piece.size() < kCacheMaxPiece;
  auto& cache = m.cache[byte_level ? 1 : 0];
  if (cacheable) {
    std::lock_guard<std::mutex> lock(m.cache_mutex);
    auto it = cache.find(piece);
    if (it != cache.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = ids.size();
  m.compute(piece, byte_level, ids);
  if (cacheable) {
    std::vector<int32_t> result(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.end());
    std::lock_guard<std::mutex> lock(m.cache_mutex);
    if (cache.size() >= kCacheCapacity) cache.clear();
    cache.emplace(std::string(piece), std::move(result));
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = impl_->vocab.find(token);
  if (it == impl_->vocab.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->tokens.size()) return nullptr;
  return impl_->tokens[id];
}

size_t BpeModel::vocab_size() const { return impl_->vocab.size(); }

int32_t BpeModel::id_end() const { return static_cast<int32_t>(impl_->tokens.size()); }

size_t BpeModel::merge_count() const { return impl_->merges.size(); }

size_t BpeModel::cache_size() const {
  std::lock_guard<std::mutex> lock(impl_->cache_mutex);
  return impl_->cache[0].size() + impl_->cache[1].size();
}

}  // namespace chorus::inference
