// The byte-by-byte JSON matcher behind constrained tool calls: without a schema it accepts exactly what
// nlohmann::json's parser accepts (checked on mutated documents, a reference we did not write); with one it
// refuses the first byte that no matching document could follow.
#include "inference/json-schema-matcher.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>

namespace chorus::inference {
namespace {

using nlohmann::json;

// How many bytes of `text` the matcher takes before refusing one (text.size(): all), and whether it is
// complete.
std::pair<size_t, bool> run(const std::shared_ptr<const SchemaNode>& schema, const std::string& text) {
  JsonSchemaMatcher m(schema);
  for (size_t i = 0; i < text.size(); ++i)
    if (!m.feed(static_cast<unsigned char>(text[i]))) return {i, false};
  return {text.size(), m.complete()};
}

bool matches(const std::shared_ptr<const SchemaNode>& schema, const std::string& text) {
  const auto [taken, complete] = run(schema, text);
  return taken == text.size() && complete;
}

// Refused exactly at the first occurrence of `at` in `text`.
void expect_refused_at(const std::shared_ptr<const SchemaNode>& schema, const std::string& text,
                       const std::string& at) {
  const size_t where = text.find(at);
  ASSERT_NE(where, std::string::npos) << at;
  EXPECT_EQ(run(schema, text).first, where) << text;
}

// True when a document parses but repeats a key inside one object (the matcher refuses those on purpose).
bool has_duplicate_keys(const std::string& text) {
  std::vector<std::set<std::string>> open;
  bool duplicate = false;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open.emplace_back();
    if (event == json::parse_event_t::object_end && !open.empty()) open.pop_back();
    if (event == json::parse_event_t::key && !open.empty())
      duplicate = duplicate || !open.back().insert(parsed.get<std::string>()).second;
    return true;
  };
  [[maybe_unused]] const json parsed = json::parse(text, cb, /*allow_exceptions=*/false);
  return duplicate;
}

// True when the parser refuses `text` only because a number does not fit a double.
bool overflows_double(const std::string& text) {
  try {
    [[maybe_unused]] const json parsed = json::parse(text);
  } catch (const json::out_of_range& e) {
    return e.id == 406;
  } catch (const json::exception&) {
  }
  return false;
}

TEST(JsonSchemaMatcher, WithoutASchemaAcceptsExactlyValidJson) {
  const auto any = compile_json_schema(json::object());
  const std::vector<std::string> valid = {"{}",
                                          "[]",
                                          "0",
                                          "-0",
                                          "12",
                                          "-3.25e+10",
                                          "1E5",
                                          "0.5",
                                          "true",
                                          "false",
                                          "null",
                                          "\"\"",
                                          "\"a\\\"b\\\\c\\u00e9\\n\"",
                                          "{\"a\": [1, 2, {\"b\": null}], \"c\": \"d\"}",
                                          "  {\n  \"k\" :\t[ ]\n}  ",
                                          "[[[[]]]]",
                                          "[1,-2.5,\"x\",true]"};
  for (const auto& text : valid) {
    ASSERT_TRUE(json::accept(text)) << text;
    EXPECT_TRUE(matches(any, text)) << text;
  }
  const std::vector<std::string> invalid = {
      "{",   "[1,]", "{\"a\" 1}", "01",         "1.",    "-",       ".5",          "1e",      "+1",
      "tru", "nul",  "\"abc",     "{\"a\":1,}", "[1 2]", "\"\\x\"", "\"\\u12g4\"", "{'a':1}", "}"};
  for (const auto& text : invalid) {
    ASSERT_FALSE(json::accept(text)) << text;
    EXPECT_FALSE(matches(any, text)) << text;
  }

  // Mutations of valid documents: the matcher agrees with nlohmann's parser on every one (bar repeated keys,
  // which it refuses and the parser takes, and numbers past a double, which the parser refuses).
  std::mt19937_64 rng(7);
  const std::string alphabet = "{}[]\":,0123456789-+.eEtrufalsn \n\\abx";
  int agreed = 0, accepted = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text = valid[rng() % valid.size()];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      const size_t at = text.empty() ? 0 : rng() % (text.size() + 1);
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = c;
          break;
      }
    }
    const bool reference = json::accept(text);
    if (reference && has_duplicate_keys(text)) continue;
    if (!reference && overflows_double(text))
      continue;  // valid JSON the parser refuses (1E574 is past double)
    EXPECT_EQ(matches(any, text), reference) << "'" << text << "'";
    agreed += matches(any, text) == reference;
    accepted += reference;
  }
  EXPECT_GT(agreed, 3000);
  EXPECT_GT(accepted, 300);  // both sides of the comparison were exercised

  // Strings: UTF-8 as RFC 3629 has it, \u escapes with surrogate pairs whole, escaped keys told apart.
  const std::vector<std::string> strings = {"\"\xC3\xA9t\xC3\xA9\"",
                                            "\"\xF0\x9F\x98\x80\"",
                                            "\"\xC3\"",
                                            "\"\x80\"",
                                            "\"\xC0\xAF\"",
                                            "\"\xED\xA0\x80\"",
                                            "\"\xF4\x90\x80\x80\"",
                                            "\"\xE0\x80\xAF\"",
                                            "\"\\ud83d\\ude00\"",
                                            "\"\\ud83d\"",
                                            "\"\\ude00\"",
                                            "\"\\ud83dx\"",
                                            "\"\\ud83d\\u0041\"",
                                            "{\"\\u00e9\": 1, \"\\u00e0\": 2}"};
  for (const auto& text : strings) EXPECT_EQ(matches(any, text), json::accept(text)) << text;
}

TEST(JsonSchemaMatcher, RefusesTheFirstByteNoMatchingDocumentCouldFollow) {
  const auto schema = compile_json_schema(json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["unit", "amount"],
    "properties": {"unit": {"type": "string", "enum": ["days", "weeks"]}, "amount": {"type": "integer"},
                   "scale": {"type": "number"}, "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                   "tags": {"type": "array", "items": {"type": "string", "const": "x"}}, "on": {"type": "boolean"}}})"));
  EXPECT_TRUE(matches(schema, R"({"unit": "days", "amount": -3})"));
  EXPECT_TRUE(matches(
      schema,
      R"({"amount": 7, "unit": "weeks", "scale": 1.5e3, "date": "2024-02-29", "tags": ["x", "x"], "on": false})"));
  expect_refused_at(schema, R"({"unit": "dayz"})", "z");  // not an enum prefix
  expect_refused_at(schema, R"({"unit": "day", "amount": 1})",
                    "\", \"amount");                                      // "day" is a prefix, not a value
  expect_refused_at(schema, R"({"unit": "days", "amount": 2.5})", ".5");  // integer
  expect_refused_at(schema, R"({"unit": "days", "amount": 2058-11-18})",
                    "-11");                                                  // a date where a number goes
  expect_refused_at(schema, R"({"unit": "days", "amount": "3"})", "\"3\"");  // a string where a number goes
  expect_refused_at(schema, R"({"unit": "days", "width": 3})", "width");     // not a property
  expect_refused_at(schema, R"({"unit": "days", "unit": "days"})", "unit\": \"days\"}");  // repeated
  expect_refused_at(schema, R"({"unit": "days"})", "}");  // amount is required
  expect_refused_at(schema, R"({"amount": 1, "unit": "days", "date": "2024/01/01"})", "/01/01");
  expect_refused_at(schema, R"({"amount": 1, "unit": "days", "date": "2024-01-011"})", "1\"}");
  expect_refused_at(schema, R"({"amount": 1, "unit": "days", "date": "2024-01"})", "\"}");
  expect_refused_at(schema, R"({"amount": 1, "unit": "days", "tags": ["y"]})", "y\"]");
  expect_refused_at(schema, R"({"amount": 1, "unit": "days", "on": 1})", "1}");
  expect_refused_at(schema, R"({"amount": 1, "unit": "d\u0061ys"})",
                    "\\u");  // checked strings take no escapes
  // Whitespace where JSON allows it, but not without end.
  EXPECT_TRUE(matches(schema, "{\n  \"unit\" : \"days\",\n  \"amount\" : 1\n}"));
  EXPECT_EQ(run(schema, "{" + std::string(21, ' ')).first, 21u);
}

TEST(JsonSchemaMatcher, IntegerBoundsAndStringLengthsHoldAsTheyAreWritten) {
  const auto schema = compile_json_schema(json::parse(R"({"type": "object", "properties": {
      "n": {"type": "integer", "minimum": -50, "maximum": 1000}, "k": {"type": "integer", "minimum": 10},
      "s": {"type": "string", "minLength": 1, "maxLength": 4}}})"));
  EXPECT_TRUE(matches(schema, R"({"n": 1000, "k": 12, "s": "abcd"})"));
  EXPECT_TRUE(matches(schema, R"({"n": -50, "s": "é"})"));
  expect_refused_at(schema, R"({"n": 10001})", "1}");  // 1000 could still end; 10001 cannot
  expect_refused_at(schema, R"({"n": 2000})", "0}");   // 200 may still end; 2000 is past 1000
  expect_refused_at(schema, R"({"n": -51})", "1}");
  expect_refused_at(schema, R"({"k": 9})", "}");  // 9 is below 10 and ends here
  expect_refused_at(schema, R"({"k": 0})", "0");  // 0 takes no more digits
  expect_refused_at(schema, R"({"k": -1})", "-");
  expect_refused_at(schema, R"({"s": ""})", "\"}");
  expect_refused_at(schema, R"({"s": "abcde"})", "e\"");
}

TEST(JsonSchemaMatcher, IfThenElseChainsPickTheKeysOfAnOperation) {
  // The calendar tool's shape: which keys an object needs and takes depends on its "operation".
  const auto schema = compile_json_schema(json::parse(R"({
    "type": "object", "additionalProperties": false, "required": ["operation"],
    "properties": {"operation": {"enum": ["add", "weekday"]}, "date": {"type": "string"}, "amount": {"type": "integer"}},
    "if": {"properties": {"operation": {"const": "add"}}, "required": ["operation"]},
    "then": {"propertyNames": {"enum": ["operation", "date", "amount"]}, "required": ["date", "amount"]},
    "else": {"if": {"properties": {"operation": {"const": "weekday"}}, "required": ["operation"]},
             "then": {"propertyNames": {"enum": ["operation", "date"]}, "required": ["date"]}}})"));
  EXPECT_TRUE(matches(schema, R"({"operation": "add", "date": "2024-01-01", "amount": 3})"));
  EXPECT_TRUE(matches(schema, R"({"operation": "weekday", "date": "2024-01-01"})"));
  expect_refused_at(schema, R"({"operation": "weekday", "amount": 3})", "amount");
  expect_refused_at(schema, R"({"operation": "weekday"})", "}");
  expect_refused_at(schema, R"({"operation": "add", "date": "2024-01-01"})", "}");
  // Before the operation is known, any declared key may come.
  EXPECT_TRUE(matches(schema, R"({"date": "2024-01-01", "operation": "weekday"})"));
}

TEST(JsonSchemaMatcher, ToolCallSchemaTakesTheNamedToolsArguments) {
  const auto schema = compile_tool_call_schema(
      {{"calculator",
        json::parse(R"({"type": "object", "additionalProperties": false, "required": ["expression"],
                                     "properties": {"expression": {"type": "string"}}})")},
       {"calendar", json::parse(R"({"type": "object", "properties": {"date": {"type": "string"}}})")}});
  EXPECT_TRUE(matches(schema, R"({"name": "calculator", "arguments": {"expression": "2 + 3"}})"));
  EXPECT_TRUE(matches(schema, R"({"name": "calendar", "arguments": {}})"));
  expect_refused_at(schema, R"({"name": "calcul8r", "arguments": {}})", "8");
  expect_refused_at(schema, R"({"name": "calculator", "arguments": {"date": "x"}})", "date");
  expect_refused_at(schema, R"({"name": "calculator", "arguments": {}})", "}}");
  expect_refused_at(schema, R"({"name": "calculator", "arguments": []})", "[");
  expect_refused_at(schema, R"({"name": "calculator"})", "}");
  expect_refused_at(schema, R"({"name": "calculator", "arguments": {"expression": "1"}, "id": 1})",
                    ", \"id");  // no key left
  // The name comes first, so the arguments are always checked against the named tool.
  expect_refused_at(schema, R"({"arguments": {"expression": "1"}, "name": "calculator"})", "arguments");
}

TEST(JsonSchemaMatcher, KeywordsOutsideTheSubsetAcceptMore) {
  const auto schema = compile_json_schema(json::parse(R"({"anyOf": [{"type": "string"}, {"type": "integer"}],
                                                          "pattern": "^a+$", "minimum": 3})"));
  EXPECT_TRUE(matches(schema, "[1, {\"x\": null}]"));
  const auto unanchored = compile_json_schema(json::parse(R"({"type": "string", "pattern": "[0-9]{2}"})"));
  EXPECT_TRUE(matches(unanchored, "\"any text\""));
  EXPECT_FALSE(matches(unanchored, "12"));  // the type still holds
}

}  // namespace
}  // namespace chorus::inference
