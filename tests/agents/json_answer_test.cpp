// Finding the JSON in a model's answer: bare, fenced, or the first parsable {...} block.
#include "agents/json-answer.h"

#include <gtest/gtest.h>

namespace chorus::agents {
namespace {

using nlohmann::json;

TEST(ExtractJson, BareJsonOfAnyType) {
  EXPECT_EQ(extract_json(" {\"a\": 1} "), (json{{"a", 1}}));
  EXPECT_EQ(extract_json("[1, 2]"), json::array({1, 2}));
  EXPECT_EQ(extract_json("42"), json(42));
}

TEST(ExtractJson, FencedBlockWithOrWithoutLanguageTag) {
  EXPECT_EQ(extract_json("Here you go:\n```json\n{\"city\": \"Paris\"}\n```\nAnything else?"),
            (json{{"city", "Paris"}}));
  EXPECT_EQ(extract_json("```\n[\"x\"]\n```"), json::array({"x"}));
  // A fence that does not parse is skipped for the next one.
  EXPECT_EQ(extract_json("```text\nnot json\n```\n```json\n{\"b\": 2}\n```"), (json{{"b", 2}}));
}

TEST(ExtractJson, FirstBalancedBraceBlockRespectingStrings) {
  EXPECT_EQ(extract_json("The answer is {\"text\": \"a } inside\", \"n\": {\"m\": 1}} as requested."),
            (json{{"text", "a } inside"}, {"n", {{"m", 1}}}}));
  EXPECT_EQ(extract_json("set {not json} then {\"ok\": true}"), (json{{"ok", true}}));
}

TEST(ExtractJson, NothingWhenThereIsNoJson) {
  EXPECT_FALSE(extract_json(""));
  EXPECT_FALSE(extract_json("just words"));
  EXPECT_FALSE(extract_json("unclosed {\"a\": 1"));
}

}  // namespace
}  // namespace chorus::agents
