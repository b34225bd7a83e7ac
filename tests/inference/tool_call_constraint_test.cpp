// Constrained tool calls: the vocabulary trie offers exactly the tokens a matcher accepts, and the constraint
// masks nothing outside <tool_call>...</tool_call> and everything that would break the call inside it.
#include "inference/tokenizer.h"
#include "inference/tool-call-constraint.h"
#include "tests/support/paths.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace chorus::inference {
namespace {

using nlohmann::json;

// Accepts decimal digits only.
struct Digits {
  bool advance(unsigned char c) const { return c >= '0' && c <= '9'; }
};

std::vector<int64_t> allowed_ids(const std::vector<uint8_t>& mask) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) ids.push_back(static_cast<int64_t>(i));
  return ids;
}

TEST(TokenTrie, MarksExactlyTheTokensTheStateAccepts) {
  const TokenTrie trie({"1", "12", "1a", "", "a", "907", "9", "x9"});
  std::vector<uint8_t> mask(trie.size(), 0);
  trie.mark_accepted(Digits{}, mask);
  EXPECT_EQ(allowed_ids(mask), (std::vector<int64_t>{0, 1, 5, 6}));
  EXPECT_EQ(trie.bytes(5), "907");
  EXPECT_EQ(trie.bytes(99), "");
}

// The same call state without the plain-string shortcut: the trie then walks every token.
struct Walked {
  ToolCallConstraint::CallState state;
  bool advance(unsigned char c) { return state.advance(c); }
};

// Inside a free string the trie takes the plain tokens (most of a vocabulary) without walking them; on a real
// vocabulary and a real call, the masks equal a full walk's at every step.
TEST(TokenTrie, ThePlainStringShortcutGivesTheSameMaskAsAWalk) {
  const Tokenizer tok =
      Tokenizer::from_file(chorus::testing::repo_dir() / "models/chorus-tiny/tokenizer.json");
  const TokenTrie trie = TokenTrie::of(tok);
  const auto schema = compile_tool_call_schema(
      {{"calculator",
        json::parse(R"({"type": "object", "properties": {"expression": {"type": "string"}}})")}});
  ToolCallConstraint::CallState state(schema);
  int plain_steps = 0;
  for (int32_t id : tok.encode(
           "\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"(2 + 3) * 4 é\"}}", false)) {
    std::vector<uint8_t> fast(trie.size(), 0), walked(trie.size(), 0);
    trie.mark_accepted(state, fast);
    trie.mark_accepted(Walked{state}, walked);
    ASSERT_EQ(fast, walked) << "before " << trie.bytes(id);
    plain_steps += state.inside_plain_string();
    for (unsigned char c : trie.bytes(id)) ASSERT_TRUE(state.advance(c)) << trie.bytes(id);
  }
  EXPECT_GT(plain_steps, 0);
}

json calculator_schema() {
  return json::parse(R"({"type": "object", "additionalProperties": false, "required": ["expression"],
                         "properties": {"expression": {"type": "string"}}})");
}

json calendar_schema() {
  return json::parse(R"({"type": "object", "additionalProperties": false, "required": ["operation"],
    "properties": {"operation": {"enum": ["add", "weekday"]}, "amount": {"type": "integer"},
                   "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                   "unit": {"enum": ["days", "weeks"]}},
    "if": {"properties": {"operation": {"const": "add"}}, "required": ["operation"]},
    "then": {"propertyNames": {"enum": ["operation", "date", "amount", "unit"]}, "required": ["date", "amount", "unit"]}})");
}

TEST(ToolCallConstraint, MasksOnlyInsideACall) {
  const std::vector<std::string> vocab = {
      "Hello",      "<tool_call>",  "\n",         "{\"",     "name",       "\": \"",
      "calculator", "\", \"",       "arguments",  "\": {\"", "expression", "1 + 1",
      "\"}}",       "</tool_call>", "<|im_end|>", "}",       "\"",         "calendar"};
  const auto id = [&](const std::string& t) {
    return static_cast<int64_t>(std::find(vocab.begin(), vocab.end(), t) - vocab.begin());
  };
  auto trie =
      std::make_shared<const TokenTrie>(vocab, std::vector<int32_t>{static_cast<int32_t>(id("<tool_call>")),
                                                                    static_cast<int32_t>(id("</tool_call>")),
                                                                    static_cast<int32_t>(id("<|im_end|>"))});
  ToolCallConstraint c(trie, compile_tool_call_schema({{"calculator", calculator_schema()}}));
  std::vector<uint8_t> mask;
  EXPECT_FALSE(c.mask_next(mask));  // plain text: anything
  c.accept(id("Hello"));
  EXPECT_FALSE(c.mask_next(mask));
  c.accept(id("<tool_call>"));
  ASSERT_TRUE(c.in_call());
  ASSERT_TRUE(c.mask_next(mask));
  EXPECT_EQ(allowed_ids(mask), (std::vector<int64_t>{id("\n"), id("{\"")}));
  const std::vector<std::string> call = {"\n",     "{\"",       "name",    "\": \"",     "calculator",
                                         "\", \"", "arguments", "\": {\"", "expression", "\": \"",
                                         "1 + 1",  "\"}}",      "\n"};
  for (size_t i = 0; i < call.size(); ++i) {
    const std::string& piece = call[i];
    ASSERT_TRUE(c.mask_next(mask)) << piece;
    EXPECT_EQ(mask[static_cast<size_t>(id(piece))], 1) << piece;
    EXPECT_EQ(mask[static_cast<size_t>(id("<|im_end|>"))], 0) << "the model may not stop inside a call";
    if (i + 1 < call.size()) {  // before the JSON is whole
      EXPECT_EQ(mask[static_cast<size_t>(id("</tool_call>"))], 0)
          << "the call may not close early: " << piece;
    }
    if (piece == "calculator") {
      EXPECT_EQ(mask[static_cast<size_t>(id("calendar"))], 0) << "not an offered tool";
    }
    c.accept(id(piece));
  }
  ASSERT_TRUE(c.mask_next(mask));
  EXPECT_EQ(allowed_ids(mask), (std::vector<int64_t>{id("\n"), id("</tool_call>")}));
  c.accept(id("</tool_call>"));
  EXPECT_FALSE(c.in_call());
  EXPECT_FALSE(c.mask_next(mask));  // a second call or the end: the model's choice
}

// The bundled model's real vocabulary: every token of a well-formed calendar call is offered at its turn, and
// a date where the integer `amount` goes (the bundled model's commonest malformed call) is not.
TEST(ToolCallConstraint, OnARealVocabularyOffersEveryTokenOfAValidCall) {
  const Tokenizer tok =
      Tokenizer::from_file(chorus::testing::repo_dir() / "models/chorus-tiny/tokenizer.json");
  auto trie = std::make_shared<const TokenTrie>(TokenTrie::of(tok));
  const auto schema =
      compile_tool_call_schema({{"calculator", calculator_schema()}, {"calendar", calendar_schema()}});
  const auto walk = [&](const std::string& text) {  // how many tokens of `text` were offered in a row
    ToolCallConstraint c(trie, schema);
    std::vector<uint8_t> mask;
    size_t offered = 0;
    const auto ids = tok.encode(text, false);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0 && c.mask_next(mask) && !mask[static_cast<size_t>(ids[i])]) break;
      c.accept(ids[i]);
      offered = i + 1;
    }
    return std::make_pair(offered, ids.size());
  };
  const auto good = walk(
      "<tool_call>\n{\"name\": \"calendar\", \"arguments\": {\"operation\": \"add\", \"date\": "
      "\"2014-05-14\", \"amount\": -3, \"unit\": \"days\"}}\n</tool_call>");
  EXPECT_EQ(good.first, good.second);
  const auto bad = walk(
      "<tool_call>\n{\"name\": \"calendar\", \"arguments\": {\"operation\": \"add\", \"date\": "
      "\"2014-05-14\", \"amount\": 2058-11-18\"}}\n</tool_call>");
  EXPECT_LT(bad.first, bad.second);
  const auto prefix = tok.encode(
      "<tool_call>\n{\"name\": \"calendar\", \"arguments\": {\"operation\": \"add\", "
      "\"date\": \"2014-05-14\", \"amount\": 2058",
      false);
  EXPECT_GE(bad.first, prefix.size() - 1);  // refused at the date's '-', not before
}

}  // namespace
}  // namespace chorus::inference
