// Tokenizer building blocks on hand-made inputs: the regex engine, Unicode tables and NFC, BPE merge formats,
// added-token flags, the streaming detokenizer and the error messages for bad tokenizer.json documents.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "inference/byte-level.h"
#include "inference/detokenizer.h"
#include "inference/pretokenizer.h"
#include "inference/regex.h"
#include "inference/tokenizer.h"
#include "inference/unicode.h"

namespace chorus::inference {
namespace {

using json = nlohmann::json;

const char kLlama3Pattern[] =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::u32string u32(std::string_view s) {
  std::u32string out;
  utf8_to_cpts(s, out);
  return out;
}

// The matched substrings of pattern in text (UTF-8).
std::vector<std::string> matches(const std::string& pattern, const std::string& text) {
  Regex re(pattern);
  std::u32string cpts = u32(text);
  std::vector<std::string> out;
  for (auto [b, e] : re.find_all(cpts)) out.push_back(cpts_to_utf8(cpts.substr(b, e - b)));
  return out;
}

using Strings = std::vector<std::string>;

// ---------------------------------------------------------------- regex

TEST(Regex, CaseInsensitiveGroupOnlyAppliesInside) {
  EXPECT_EQ(matches(kLlama3Pattern, "IT'S HE'LL we'Re"), (Strings{"IT", "'S", " HE", "'LL", " we", "'Re"}));
  EXPECT_EQ(matches("(?i:ab)c", "ABc ABC abc"), (Strings{"ABc", "abc"}));
  EXPECT_EQ(matches("(?i)ab", "aB Ab"), (Strings{"aB", "Ab"}));
  // Simple case folding: KELVIN SIGN folds to k, LONG S to s.
  EXPECT_EQ(matches("(?i:'s|k)", "'\u017F \u212A"), (Strings{"'\u017F", "\u212A"}));
}

TEST(Regex, NegativeLookaheadBacksOffOneCharacter) {
  EXPECT_EQ(matches(R"(\s+(?!\S)|\s+|\S+)", "a   b"), (Strings{"a", "  ", " ", "b"}));
  EXPECT_EQ(matches(kLlama3Pattern, "hello   \n\n  world"), (Strings{"hello", "   \n\n", " ", " world"}));
  EXPECT_EQ(matches(kLlama3Pattern, "end   "), (Strings{"end", "   "}));
  EXPECT_EQ(matches("a(?=b)", "ab ac"), (Strings{"a"}));
}

TEST(Regex, UnicodeClasses) {
  EXPECT_EQ(matches(R"(\p{L}+)", "héllo wörld 日本語 Ωmega"), (Strings{"héllo", "wörld", "日本語", "Ωmega"}));
  // \p{N} covers Nd (Arabic-Indic), No (superscript, circled) and Nl (Roman numeral).
  EXPECT_EQ(matches(R"(\p{N})", "a٣²①Ⅻ"), (Strings{"٣", "²", "①", "Ⅻ"}));
  EXPECT_EQ(matches(R"(\P{L}+)", "ab12cd"), (Strings{"12"}));
  EXPECT_EQ(matches(R"(\pL+)", "ab12cd"), (Strings{"ab", "cd"}));
  // \s is White_Space: NEL, NBSP, ideographic space, U+2028 yes; U+FEFF and U+200B no.
  EXPECT_EQ(matches(R"(\s)", "a\u0085b\u00A0c\u3000d\u2028e\uFEFFf\u200Bg"),
            (Strings{"\u0085", "\u00A0", "\u3000", "\u2028"}));
  EXPECT_EQ(matches(R"([^\s\p{L}\p{N}]+)", "a+-b 😀!"), (Strings{"+-", "😀!"}));
  EXPECT_EQ(matches(R"(\d+)", "x١٢3"), (Strings{"١٢3"}));
  EXPECT_EQ(matches(R"(\w+)", "foo_bar-baz"), (Strings{"foo_bar", "baz"}));
  EXPECT_EQ(matches(R"([a-c\x{1F600}-\x{1F64F}]+)", "abcd😀😁x"), (Strings{"abc", "😀😁"}));
}

TEST(Regex, CountedRepeatAndAlternationOrder) {
  EXPECT_EQ(matches(kLlama3Pattern, "1234567"), (Strings{"123", "456", "7"}));
  EXPECT_EQ(matches("a|ab", "ab"), (Strings{"a"}));  // leftmost-first, not longest
  EXPECT_EQ(matches("(?:ab)+", "ababa"), (Strings{"abab"}));
  EXPECT_EQ(matches("a{2}", "aaaaa"), (Strings{"aa", "aa"}));
  EXPECT_EQ(matches("a{2,}", "a aa aaa"), (Strings{"aa", "aaa"}));
  EXPECT_EQ(matches("(?:ab){1,2}c", "ababc abc"), (Strings{"ababc", "abc"}));
  EXPECT_EQ(matches("a+?", "aaa"), (Strings{"a", "a", "a"}));
  EXPECT_EQ(matches("a++a", "aaa"), Strings{});
  EXPECT_EQ(matches("(?>a+)b|a", "aab"), (Strings{"aab"}));
  EXPECT_EQ(matches("x{", "x{"), (Strings{"x{"}));  // a brace that is no quantifier is literal
  EXPECT_EQ(matches(".", "a\nb"), (Strings{"a", "b"}));
  Regex re("ab|a");
  EXPECT_EQ(re.match_at(u32("xab"), 1), 3u);
  EXPECT_EQ(re.match_at(u32("xab"), 0), Regex::npos);
  EXPECT_EQ(re.pattern(), "ab|a");
}

TEST(Regex, Gpt2Pattern) {
  EXPECT_EQ(matches(kGpt2Pattern, "I'm here, don't  go 42x"),
            (Strings{"I", "'m", " here", ",", " don", "'t", " ", " go", " 42", "x"}));
}

TEST(Regex, RejectsUnsupportedSyntax) {
  for (const char* bad : {"(?<=a)b", "a{3,1}", "[a", "(ab", "ab)", "*a", "\\1", "^a", "a$", "\\p{Greek}", "(?x:a)", "(?:a*)*",
                          "[[:alpha:]]", "\\b"}) {
    EXPECT_THROW(Regex{bad}, RegexError) << bad;
  }
  EXPECT_THROW(Regex(std::string(500, '(') + "a" + std::string(500, ')')), RegexError);  // nesting limit
  EXPECT_NO_THROW(Regex(std::string(50, '(') + "a" + std::string(50, ')')));
  try {
    Regex re("(?<=a)");
    FAIL();
  } catch (const RegexError& e) {
    EXPECT_NE(std::string(e.what()).find("lookbehind"), std::string::npos) << e.what();
  }
}

TEST(Regex, LongRunsStayLinear) {
  std::string spaces(20000, ' ');
  auto m = matches(kLlama3Pattern, spaces + "x");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].size(), 19999u);
  EXPECT_EQ(m[1], " x");
  EXPECT_EQ(matches(kLlama3Pattern, std::string(10000, '\n')).size(), 1u);
}

// ---------------------------------------------------------------- unicode

TEST(Unicode, CategoriesAndFolding) {
  EXPECT_EQ(unicode_category(U'A'), GeneralCategory::Lu);
  EXPECT_EQ(unicode_category(U'\u0663'), GeneralCategory::Nd);
  EXPECT_EQ(unicode_category(U'\u00B2'), GeneralCategory::No);
  EXPECT_EQ(unicode_category(U'\U0001F600'), GeneralCategory::So);
  EXPECT_EQ(unicode_category(0x10FFFF), GeneralCategory::Cn);
  EXPECT_EQ(unicode_category(0x110000), GeneralCategory::Cn);
  EXPECT_TRUE(unicode_is_white_space(0x85));
  EXPECT_FALSE(unicode_is_white_space(0xFEFF));
  EXPECT_EQ(unicode_simple_fold(U'K'), U'k');
  EXPECT_EQ(unicode_simple_fold(0x212A), U'k');
  EXPECT_EQ(unicode_simple_fold(0x17F), U's');
  EXPECT_EQ(unicode_simple_fold(0x1E9E), 0xDF);  // capital sharp s -> ß (simple, not "ss")
  EXPECT_EQ(unicode_simple_fold(U'Σ'), U'σ');
  EXPECT_EQ(unicode_simple_fold(U'ς'), U'σ');
  EXPECT_EQ(unicode_simple_fold(0x130), 0x130u);  // İ has no simple folding
  EXPECT_STREQ(unicode_version(), "14.0.0");
}

TEST(Unicode, LossyUtf8) {
  EXPECT_EQ(utf8_lossy("a\xFF" "b"), "a\uFFFDb");
  EXPECT_EQ(utf8_lossy("\xE0\x80"), "\uFFFD\uFFFD");  // E0 80 is no prefix of a valid sequence
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), "\uFFFD");    // one maximal truncated sequence
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // surrogate
  EXPECT_TRUE(utf8_is_valid("\uFFFD ok"));
  EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\x98"), 1u);
  EXPECT_EQ(utf8_complete_prefix("a\xF0\x9F\x98\x80"), 5u);
  EXPECT_EQ(utf8_complete_prefix("a\xE0\x80"), 3u);  // invalid, cannot complete: emit as U+FFFD
  EXPECT_EQ(utf8_complete_prefix("a\xC3"), 1u);
}

TEST(Unicode, NfcSamples) {
  auto nfc = [](const std::string& s) {
    std::string out;
    return utf8_nfc(s, out) ? out : s;
  };
  EXPECT_EQ(nfc("e\u0301"), "\u00E9");
  EXPECT_EQ(nfc("\u212B"), "\u00C5");  // ANGSTROM SIGN
  EXPECT_EQ(nfc("\u2126"), "\u03A9");  // OHM SIGN
  EXPECT_EQ(nfc("\u212A"), "K");       // KELVIN SIGN
  EXPECT_EQ(nfc("\u1100\u1161\u11A8"), "\uAC01");
  EXPECT_EQ(nfc("\u1100\u1161"), "\uAC00");
  EXPECT_EQ(nfc("e\u0323\u0302"), "\u1EC7");
  EXPECT_EQ(nfc("e\u0302\u0323"), "\u1EC7");                   // reordered by combining class
  EXPECT_EQ(nfc("a\u0301\u0301"), "\u00E1\u0301");            // second acute is blocked
  EXPECT_EQ(nfc("\uFB01"), "\uFB01");                          // compatibility ligature stays in NFC
  EXPECT_EQ(nfc("Ti\u1EBFng Vi\u00EA\u0323t"), "Ti\u1EBFng Vi\u1EC7t");
  EXPECT_EQ(nfc("\u0344"), "\u0308\u0301");                    // excluded from composition
  std::string unused;
  EXPECT_FALSE(utf8_nfc("plain ASCII and \u00E9t\u00E9 and \u65E5\u672C", unused));
  EXPECT_EQ(utf8_nfd("\u00E9\uAC01"), "e\u0301\u1100\u1161\u11A8");
}

// ---------------------------------------------------------------- tiny tokenizer.json documents

json byte_level_vocab() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    utf8_append(ch, byte_level_char(static_cast<uint8_t>(b)));
    vocab[ch] = b;
  }
  return vocab;
}

// A GPT-2 style byte-level BPE: the 256 byte tokens plus merges for " h", " hi", "ab", "abc".
json byte_level_doc(const json& merges) {
  json vocab = byte_level_vocab();
  vocab["Ġh"] = 256;
  vocab["Ġhi"] = 257;
  vocab["ab"] = 258;
  vocab["abc"] = 259;
  return {{"version", "1.0"},
          {"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
          {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
          {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false},
                     {"byte_fallback", false}, {"vocab", vocab}, {"merges", merges}}}};
}

Tokenizer load(const json& doc) { return Tokenizer::from_json(doc.dump(), "test.json"); }

using Ids = std::vector<int32_t>;

TEST(Bpe, BothMergeFormatsGiveTheSameIds) {
  Tokenizer legacy = load(byte_level_doc({"Ġ h", "Ġh i", "a b", "ab c"}));
  using P = std::vector<std::string>;  // spelled out: nested braces of string pairs would make an object
  Tokenizer pairs = load(byte_level_doc(json(std::vector<P>{{"Ġ", "h"}, {"Ġh", "i"}, {"a", "b"}, {"ab", "c"}})));
  for (const Tokenizer* t : {&legacy, &pairs}) {
    EXPECT_EQ(t->encode(" hi abcab", false), (Ids{257, ' ', 259, 258}));  // byte tokens have the byte's id
    EXPECT_EQ(t->encode("abcab", false), (Ids{259, 258}));
    EXPECT_EQ(t->encode(" hi", false), (Ids{257}));
    EXPECT_EQ(t->decode(t->encode(" hi abcab\n\u00E9", false)), " hi abcab\n\u00E9");
  }
  EXPECT_EQ(legacy.encode(" hi abcab", false), pairs.encode(" hi abcab", false));
}

TEST(Bpe, MergesByRankNotPosition) {
  // "abc": merge b+c (rank 0) before a+b (rank 1) -> [a, bc].
  json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"bc", 3}, {"ab", 4}};
  json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"b c", "a b"}}}}};
  Tokenizer t = load(doc);
  EXPECT_EQ(t.encode("abc", false), (Ids{0, 3}));
  EXPECT_EQ(t.encode("ab", false), (Ids{4}));
  EXPECT_EQ(t.encode("abxc", false), (Ids{0, 3}));  // x is unknown without unk_token: dropped, b and c meet
  EXPECT_EQ(t.decode(Ids{0, 3}), "a bc");           // no decoder: tokens joined with spaces
  // A long word goes through the heap merge loop and must agree with the linear one.
  std::string long_word;
  for (int i = 0; i < 100; ++i) long_word += "abc";
  Ids expected;
  for (int i = 0; i < 100; ++i) expected.insert(expected.end(), {0, 3});
  EXPECT_EQ(t.encode(long_word, false), expected);
}

TEST(Bpe, IgnoreMergesEmitsWholeVocabularyEntries) {
  // "abc" is in the vocabulary, but merges alone cannot build it from "a b c" in this order.
  json vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"bc", 3}, {"abc", 4}};
  json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"b c"}}, {"ignore_merges", true}}}};
  EXPECT_EQ(load(doc).encode("abc", false), (Ids{4}));
  doc["model"]["ignore_merges"] = false;
  EXPECT_EQ(load(doc).encode("abc", false), (Ids{0, 3}));
}

TEST(Bpe, UnknownTokenAndByteFallback) {
  json vocab = {{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}};
  json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}, {"unk_token", "<unk>"}}}};
  EXPECT_EQ(load(doc).encode("axya", false), (Ids{1, 0, 0, 1}));
  doc["model"]["fuse_unk"] = true;
  EXPECT_EQ(load(doc).encode("axya", false), (Ids{1, 0, 1}));
  doc["model"]["byte_fallback"] = true;
  EXPECT_EQ(load(doc).encode("a\u00E9x", false), (Ids{1, 2, 3, 0}));
}

// ---------------------------------------------------------------- added tokens

json added(int id, const std::string& content, bool special, bool lstrip = false, bool rstrip = false,
           bool single_word = false, bool normalized = false) {
  return {{"id", id},         {"content", content},       {"single_word", single_word}, {"lstrip", lstrip},
          {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
}

TEST(AddedTokens, FlagsAndLongestMatch) {
  json doc = byte_level_doc({"Ġ h", "Ġh i", "a b", "ab c"});
  doc["added_tokens"] = {added(300, "<x>", true, /*lstrip=*/true), added(301, "<y>", true, false, /*rstrip=*/true),
                         added(302, "tok", false, false, false, /*single_word=*/true), added(303, "<x><y>", true),
                         added(304, "<plain>", false)};
  Tokenizer t = load(doc);
  // Byte tokens have the byte's id ('a' = 97, ' ' = 32).
  EXPECT_EQ(t.encode("a  <x>b", false), (Ids{'a', 300, 'b'}));  // lstrip takes both spaces
  EXPECT_EQ(t.encode("<y>  b", false), (Ids{301, 'b'}));         // rstrip
  EXPECT_EQ(t.encode("a <x><y>", false), (Ids{'a', ' ', 303}));  // longest match wins; it has no lstrip
  // single_word: only where no word character touches it.
  EXPECT_EQ(t.encode("tok.", false), (Ids{302, '.'}));
  Ids inside = t.encode("atok", false);
  EXPECT_TRUE(std::find(inside.begin(), inside.end(), 302) == inside.end());
  // decode: special tokens dropped with skip_special_tokens, non-special kept.
  Ids ids = t.encode("<x>hi<plain>", false);
  EXPECT_EQ(ids.front(), 300);
  EXPECT_EQ(ids.back(), 304);
  EXPECT_EQ(t.decode(ids), "<x>hi<plain>");
  EXPECT_EQ(t.decode(ids, true), "hi<plain>");
  EXPECT_TRUE(t.is_special(300));
  EXPECT_FALSE(t.is_special(304));
  EXPECT_EQ(t.token_to_id("<y>"), 301);
  EXPECT_EQ(t.id_to_token(303), "<x><y>");
}

TEST(AddedTokens, NormalizedTokensMatchNormalizedText) {
  json doc = byte_level_doc(json::array());
  doc["normalizer"] = {{"type", "NFC"}};
  doc["added_tokens"] = {added(400, "caf\u00E9", false, false, false, false, /*normalized=*/true)};
  Tokenizer t = load(doc);
  EXPECT_EQ(t.encode("a caf\u00E9", false).back(), 400);
  EXPECT_EQ(t.encode("a cafe\u0301", false).back(), 400);  // NFD input normalizes to the token
}

TEST(PostProcessor, TemplateAddsBos) {
  json doc = byte_level_doc(json::array());
  doc["added_tokens"] = {added(500, "<s>", true)};
  doc["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", "<s> $A <s>:1 $B:1"},
      {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {500}}, {"tokens", {"<s>"}}}}}}};
  Tokenizer t = load(doc);
  EXPECT_EQ(t.encode("a", true), (Ids{500, t.token_to_id("a").value()}));
  EXPECT_EQ(t.encode("a", false), (Ids{t.token_to_id("a").value()}));
  EXPECT_EQ(t.encode("", true), (Ids{500}));
  EXPECT_EQ(t.encode_pair("a", "b", true),
            (Ids{500, t.token_to_id("a").value(), 500, t.token_to_id("b").value()}));
}

TEST(PreTokenizer, SplitBehaviors) {
  auto split = [](SplitBehavior b, bool invert) {
    std::string text = "a-b--c";
    std::vector<std::pair<size_t, size_t>> m = {{1, 2}, {3, 4}, {4, 5}};
    std::vector<std::string_view> out;
    split_by_matches(text, m, b, invert, out);
    return Strings(out.begin(), out.end());
  };
  EXPECT_EQ(split(SplitBehavior::Isolated, false), (Strings{"a", "-", "b", "-", "-", "c"}));
  EXPECT_EQ(split(SplitBehavior::Removed, false), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithPrevious, false), (Strings{"a-", "b-", "-", "c"}));
  EXPECT_EQ(split(SplitBehavior::MergedWithNext, false), (Strings{"a", "-b", "-", "-c"}));
  EXPECT_EQ(split(SplitBehavior::Contiguous, false), (Strings{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(split(SplitBehavior::Removed, true), (Strings{"-", "-", "-"}));
}

TEST(PreTokenizer, DigitsAndSequence) {
  json vocab = {{"1", 0}, {"2", 1}, {"12", 2}, {"a", 3}};
  json doc = {{"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}}}}},
              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"1 2"}}}}};
  EXPECT_EQ(load(doc).encode("a12", false), (Ids{3, 0, 1}));
  doc["pre_tokenizer"]["pretokenizers"][0]["individual_digits"] = false;
  EXPECT_EQ(load(doc).encode("a12", false), (Ids{3, 2}));
}

// ---------------------------------------------------------------- streaming detokenizer

TEST(StreamingDetokenizer, HoldsBackSplitEmoji) {
  Tokenizer t = load(byte_level_doc(json::array()));
  Ids ids = t.encode("a\U0001F600b", false);  // 😀 = F0 9F 98 80: four byte tokens
  ASSERT_EQ(ids.size(), 6u);
  StreamingDetokenizer stream(t);
  EXPECT_EQ(stream.feed(ids[0]), "a");
  EXPECT_EQ(stream.feed(ids[1]), "");
  EXPECT_EQ(stream.feed(ids[2]), "");
  EXPECT_EQ(stream.feed(ids[3]), "");
  EXPECT_EQ(stream.pending(), 3u);
  EXPECT_EQ(stream.feed(ids[4]), "\U0001F600");
  EXPECT_EQ(stream.feed(ids[5]), "b");
  EXPECT_EQ(stream.flush(), "");
  // A sequence cut short is flushed as U+FFFD; an invalid byte is emitted at once.
  stream.feed(ids[1]);
  stream.feed(ids[2]);
  EXPECT_EQ(stream.flush(), "\uFFFD");
  EXPECT_EQ(stream.feed(0xFF), "\uFFFD");
  EXPECT_EQ(stream.feed(-5), "");  // unknown ids are ignored
}

// ---------------------------------------------------------------- robustness and errors

TEST(Tokenizer, InvalidInputDoesNotCrash) {
  Tokenizer t = load(byte_level_doc({"Ġ h", "Ġh i"}));
  Ids ids = t.encode("\xFF\xFE hi \xE2\x82", false);
  EXPECT_EQ(t.decode(ids), "\uFFFD\uFFFD hi \uFFFD");
  EXPECT_EQ(t.decode(Ids{-1, 999999, 257}), " hi");
  EXPECT_EQ(t.decode(Ids{0xF0}), "\uFFFD");  // a lone lead byte
  EXPECT_TRUE(t.encode("", false).empty());
  EXPECT_EQ(t.decode(Ids{}), "");
}

// The TokenizerError message for doc, or "" when it loads.
std::string load_error(const json& doc) {
  try {
    load(doc);
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

TEST(Tokenizer, ErrorsNameTheFieldAndWhatIsSupported) {
  json good = byte_level_doc({"Ġ h"});
  ASSERT_EQ(load_error(good), "");

  json doc = good;
  doc["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", {{{"type", "ByteLevel"}}, {{"type", "Metaspace"}, {"replacement", "_"}}}}};
  EXPECT_EQ(load_error(doc),
            "test.json: pre_tokenizer.pretokenizers[1].type \"Metaspace\" is not supported (supported: Split, "
            "ByteLevel, Sequence, Digits, Whitespace, WhitespaceSplit, Punctuation)");

  doc = good;
  doc["normalizer"] = {{"type", "NFKC"}};
  EXPECT_TRUE(contains(load_error(doc), "test.json: normalizer.type \"NFKC\" is not supported (supported: NFC"));

  doc = good;
  doc["decoder"] = {{"type", "WordPiece"}};
  EXPECT_TRUE(contains(load_error(doc), "decoder.type \"WordPiece\" is not supported"));

  doc = good;
  doc["model"]["type"] = "Unigram";
  EXPECT_TRUE(contains(load_error(doc), "model.type \"Unigram\" is not supported (supported: BPE)"));

  doc = good;
  doc.erase("model");
  EXPECT_EQ(load_error(doc), "test.json: model is missing");

  doc = good;
  doc["model"]["merges"] = {"Ġ h", "zz q"};
  EXPECT_EQ(load_error(doc), "test.json: model.merges[1] token \"zz\" is not in model.vocab");

  doc = good;
  doc["model"]["merges"] = json(std::vector<std::vector<std::string>>{{"Ġ", "h", "x"}});
  EXPECT_TRUE(contains(load_error(doc), "model.merges[0] must be a pair"));

  doc = good;
  doc["model"]["merges"] = {"Ġh"};
  EXPECT_TRUE(contains(load_error(doc), "model.merges[0] \"Ġh\" must be two tokens separated by one space"));

  doc = good;
  doc["model"]["vocab"]["a"] = "zero";
  EXPECT_TRUE(contains(load_error(doc), "test.json: model.vocab[\"a\"] must be an integer, not a string"));

  doc = good;
  doc["model"]["dropout"] = 0.1;
  EXPECT_TRUE(contains(load_error(doc), "model.dropout is not supported"));

  doc = good;
  doc["added_tokens"] = {{{"id", 5}}};
  EXPECT_EQ(load_error(doc), "test.json: added_tokens[0].content is missing");

  doc = good;
  doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(?<=x)y"}}}, {"behavior", "Isolated"}};
  EXPECT_TRUE(contains(load_error(doc), "test.json: pre_tokenizer.pattern is not supported: regex"));
  EXPECT_TRUE(contains(load_error(doc), "lookbehind"));

  doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "x"}}}, {"behavior", "Sideways"}};
  EXPECT_TRUE(contains(load_error(doc), "pre_tokenizer.behavior \"Sideways\" is not supported"));

  doc = good;
  doc["post_processor"] = {{"type", "TemplateProcessing"}, {"single", "<s> $A"}, {"special_tokens", json::object()}};
  EXPECT_TRUE(contains(load_error(doc), "post_processor.single names special token \"<s>\""));

  doc = good;
  doc["truncation"] = {{"max_length", 10}};
  EXPECT_TRUE(contains(load_error(doc), "truncation is not supported"));

  doc = good;
  doc["model"]["unk_token"] = "<unk>";
  EXPECT_TRUE(contains(load_error(doc), "model.unk_token \"<unk>\" is not in model.vocab"));

  EXPECT_TRUE(contains(load_error(json::array()), "test.json: <root> must be an object"));

  try {
    Tokenizer::from_json("{\"model\": ", "broken.json");
    FAIL();
  } catch (const TokenizerError& e) {
    EXPECT_TRUE(contains(e.what(), "broken.json: invalid JSON")) << e.what();
  }
  try {
    Tokenizer::from_file("/nonexistent/tokenizer.json");
    FAIL();
  } catch (const TokenizerError& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent/tokenizer.json: cannot open")) << e.what();
  }
}

}  // namespace
}  // namespace chorus::inference
