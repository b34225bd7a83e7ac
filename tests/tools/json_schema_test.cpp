// JSON Schema validator: behaviour, error pointers and messages, malformed schemas, $ref recursion.
#include "tools/json-schema.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace chorus::tools {
namespace {

using nlohmann::json;

JsonSchema make(const json& schema) {
  return JsonSchema(schema);
}

// All errors of `instance` against `schema`, one line.
std::string errors_of(const json& schema, const json& instance) {
  return join_errors(JsonSchema(schema).validate(instance));
}

// The SchemaCompileError message for `schema` ("" when it compiles).
std::string compile_error(const json& schema) {
  try {
    JsonSchema s(schema);
  } catch (const SchemaCompileError& e) {
    return e.what();
  }
  return "";
}

const json kCalculator = json::parse(R"({
  "type": "object",
  "properties": {
    "expression": {"type": "string", "minLength": 1},
    "precision": {"type": "integer", "minimum": 0, "maximum": 20},
    "mode": {"enum": ["a", "b"]}
  },
  "required": ["expression"],
  "additionalProperties": false
})");

TEST(JsonSchema, AcceptsValidInstanceWithNoErrors) {
  JsonSchema s(kCalculator);
  EXPECT_TRUE(s.is_valid({{"expression", "1+2"}, {"precision", 3}}));
  EXPECT_TRUE(s.validate({{"expression", "1+2"}, {"mode", "b"}}).empty());
  EXPECT_EQ(s.document(), kCalculator);
}

TEST(JsonSchema, ReportsPointerAndMessage) {
  auto errors = JsonSchema(kCalculator).validate({{"expression", 5}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].pointer, "/expression");
  EXPECT_EQ(errors[0].message, "expected string, got number");
  EXPECT_EQ(errors[0].str(), "/expression: expected string, got number");
}

TEST(JsonSchema, ReportsAllErrorsJoined) {
  EXPECT_EQ(errors_of(kCalculator, {{"precision", -3}, {"foo", 1}, {"mode", "c"}}),
            "(root): missing required property \"expression\"; "
            "(root): additional property \"foo\" is not allowed; "
            "/mode: must be one of [\"a\",\"b\"]; "
            "/precision: must be >= 0, got -3");
  EXPECT_EQ(errors_of(kCalculator, json::array()), "(root): expected object, got array");
  EXPECT_EQ(join_errors({}), "");
}

TEST(JsonSchema, StrUsesRootForEmptyPointer) {
  EXPECT_EQ((SchemaError{"", "boom"}).str(), "(root): boom");
  EXPECT_EQ((SchemaError{"/a/0", "boom"}).str(), "/a/0: boom");
}

TEST(JsonSchema, NestedPointersEscapeTokens) {
  json schema = {{"properties", {{"items", {{"items", {{"type", "integer"}}}}}}},
                 {"additionalProperties", {{"type", "boolean"}}}};
  EXPECT_EQ(errors_of(schema, {{"items", {1, "x", 2.5}}}),
            "/items/1: expected integer, got string; /items/2: expected integer, got number");
  EXPECT_EQ(errors_of(schema, {{"a/b~c", 1}}), "/a~1b~0c: expected boolean, got number");
}

TEST(JsonSchema, TypeKeyword) {
  JsonSchema integer(json{{"type", "integer"}});
  EXPECT_TRUE(integer.is_valid(1));
  EXPECT_TRUE(integer.is_valid(1.0));
  EXPECT_TRUE(integer.is_valid(-1e15));
  EXPECT_FALSE(integer.is_valid(1.5));
  EXPECT_FALSE(integer.is_valid(true));
  EXPECT_FALSE(integer.is_valid("1"));
  JsonSchema number(json{{"type", "number"}});
  EXPECT_TRUE(number.is_valid(2));
  EXPECT_TRUE(number.is_valid(2.5));
  EXPECT_FALSE(number.is_valid(false));
  EXPECT_EQ(errors_of({{"type", {"string", "null"}}}, 3), "(root): expected string or null, got number");
  EXPECT_EQ(errors_of({{"type", {"array", "object", "null"}}}, "x"),
            "(root): expected array, object or null, got string");
  EXPECT_EQ(errors_of({{"type", "boolean"}}, nullptr), "(root): expected boolean, got null");
}

TEST(JsonSchema, NumericBounds) {
  json schema = {{"minimum", 0}, {"exclusiveMaximum", 10}};
  EXPECT_TRUE(JsonSchema(schema).is_valid(0));
  EXPECT_TRUE(JsonSchema(schema).is_valid(9.99));
  EXPECT_TRUE(JsonSchema(schema).is_valid("not a number"));
  EXPECT_EQ(errors_of(schema, -3), "(root): must be >= 0, got -3");
  EXPECT_EQ(errors_of(schema, 10), "(root): must be < 10, got 10");
  EXPECT_EQ(errors_of({{"maximum", 1.5}}, 2), "(root): must be <= 1.5, got 2");
  EXPECT_EQ(errors_of({{"exclusiveMinimum", 0}}, 0), "(root): must be > 0, got 0");
  // Exact comparison of large integers that a double cannot tell apart.
  EXPECT_FALSE(make({{"maximum", 9007199254740992LL}}).is_valid(9007199254740993LL));
  EXPECT_TRUE(make({{"minimum", 0}}).is_valid(18446744073709551615ULL));
}

TEST(JsonSchema, MultipleOf) {
  EXPECT_TRUE(make({{"multipleOf", 0.0001}}).is_valid(0.0075));
  EXPECT_FALSE(make({{"multipleOf", 0.0001}}).is_valid(0.00751));
  EXPECT_TRUE(make({{"multipleOf", 0.01}}).is_valid(19.99));
  EXPECT_TRUE(make({{"multipleOf", 0.1}}).is_valid(0.3));
  EXPECT_TRUE(make({{"multipleOf", 1.5}}).is_valid(-4.5));
  EXPECT_FALSE(make({{"multipleOf", 1.5}}).is_valid(35));
  EXPECT_TRUE(make({{"multipleOf", 3}}).is_valid(9223372036854775806LL));
  EXPECT_FALSE(make({{"multipleOf", 3}}).is_valid(9223372036854775807LL));
  EXPECT_FALSE(make({{"multipleOf", 0.123456789}}).is_valid(1e308));
  EXPECT_TRUE(make({{"multipleOf", 1e-8}}).is_valid(12391239123));
  EXPECT_EQ(errors_of({{"multipleOf", 2}}, 7), "(root): must be a multiple of 2, got 7");
}

TEST(JsonSchema, StringLengthCountsCodePoints) {
  JsonSchema s({{"minLength", 2}, {"maxLength", 3}});
  EXPECT_FALSE(s.is_valid("\xF0\x9F\x92\xA9"));         // one code point, four bytes
  EXPECT_TRUE(s.is_valid("\xC3\xA4\xC3\xB6\xC3\xBC"));  // "äöü": three code points, six bytes
  EXPECT_FALSE(s.is_valid("\xC3\xA4\xC3\xB6\xC3\xBCx"));
  EXPECT_EQ(errors_of({{"minLength", 2}}, "a"), "(root): must be at least 2 characters long, got 1");
  EXPECT_EQ(errors_of({{"maxLength", 2}}, "abc"), "(root): must be at most 2 characters long, got 3");
  EXPECT_TRUE(make({{"minLength", 2.0}}).is_valid("ab"));
}

TEST(JsonSchema, PatternIsUnanchoredUnicodeSearch) {
  EXPECT_EQ(errors_of({{"properties", {{"name", {{"pattern", "^[a-z]+$"}}}}}}, {{"name", "Abc"}}),
            "/name: must match pattern \"^[a-z]+$\"");
  EXPECT_TRUE(make({{"pattern", "a+"}}).is_valid("xxaayy"));
  EXPECT_TRUE(make({{"pattern", "^.$"}}).is_valid("\xE2\x82\xAC"));  // "€" is one character
  EXPECT_TRUE(make({{"pattern", "^\\p{L}+$"}}).is_valid("\xCF\x80"));
  EXPECT_TRUE(make({{"pattern", "^\\p{Letter}+$"}}).is_valid("h\xC3\xA9llo"));
  EXPECT_FALSE(make({{"pattern", "^\\p{Letter}+$"}}).is_valid("123"));
  EXPECT_TRUE(make({{"pattern", "^\\p{Script=Greek}+$"}}).is_valid("\xCF\x80"));
  EXPECT_FALSE(make({{"pattern", "^a$"}}).is_valid("a\n"));  // ECMA: $ only at the very end
  EXPECT_TRUE(make({{"pattern", "^a$"}}).is_valid(5));       // ignores non-strings
}

TEST(JsonSchema, EnumAndConstUseJsonEquality) {
  EXPECT_TRUE(make({{"const", 1}}).is_valid(1.0));
  EXPECT_FALSE(make({{"const", 1}}).is_valid(true));
  EXPECT_FALSE(make({{"const", false}}).is_valid(0));
  EXPECT_TRUE(make({{"const", {{"a", 1}, {"b", {2.0}}}}}).is_valid({{"b", {2}}, {"a", 1.0}}));
  EXPECT_TRUE(make({{"enum", {nullptr, json::array({1})}}}).is_valid(json::array({1.0})));
  EXPECT_EQ(errors_of({{"const", "x"}}, "y"), "(root): must be equal to \"x\"");
  EXPECT_EQ(errors_of({{"enum", {"a", "b"}}}, "c"), "(root): must be one of [\"a\",\"b\"]");
}

TEST(JsonSchema, ObjectKeywords) {
  json schema = json::parse(R"({
    "patternProperties": {"^x-": {"type": "string"}},
    "propertyNames": {"maxLength": 5},
    "minProperties": 1, "maxProperties": 2,
    "dependentRequired": {"card": ["cvv"]}
  })");
  EXPECT_TRUE(JsonSchema(schema).is_valid({{"x-a", "s"}}));
  EXPECT_EQ(errors_of(schema, {{"x-a", 1}}), "/x-a: expected string, got number");
  EXPECT_EQ(errors_of(schema, json::object()), "(root): must have at least 1 property, got 0");
  EXPECT_EQ(errors_of(schema, {{"a", 1}, {"b", 1}, {"c", 1}}),
            "(root): must have at most 2 properties, got 3");
  EXPECT_EQ(errors_of(schema, {{"toolong", 1}}),
            "(root): property name \"toolong\" is invalid: must be at most 5 characters long, got 7");
  EXPECT_EQ(errors_of(schema, {{"card", 1}}),
            "(root): property \"cvv\" is required when \"card\" is present");
  // patternProperties counts as matched for additionalProperties.
  json closed = {{"patternProperties", {{"^x-", true}}}, {"additionalProperties", false}};
  EXPECT_TRUE(JsonSchema(closed).is_valid({{"x-y", 1}}));
  EXPECT_EQ(errors_of(closed, {{"y", 1}}), "(root): additional property \"y\" is not allowed");
}

TEST(JsonSchema, ArrayKeywords) {
  json tuple = {{"prefixItems", {{{"type", "string"}}, {{"type", "integer"}}}}, {"items", false}};
  EXPECT_TRUE(JsonSchema(tuple).is_valid({"a", 1}));
  EXPECT_TRUE(JsonSchema(tuple).is_valid({"a"}));
  EXPECT_EQ(errors_of(tuple, {1, 1, 3}),
            "(root): must have at most 2 items, got 3; /0: expected string, got number");
  EXPECT_EQ(errors_of({{"minItems", 2}}, {1}), "(root): must have at least 2 items, got 1");
  EXPECT_EQ(errors_of({{"maxItems", 1}}, {1, 2}), "(root): must have at most 1 item, got 2");
  EXPECT_EQ(errors_of({{"uniqueItems", true}}, {1, 2, 1.0}),
            "(root): must have unique items (items 0 and 2 are equal)");
  EXPECT_TRUE(make({{"uniqueItems", true}}).is_valid({1, true, "1", json::array({1})}));
  json contains = {{"contains", {{"type", "integer"}}}, {"minContains", 2}, {"maxContains", 3}};
  EXPECT_TRUE(JsonSchema(contains).is_valid({1, "a", 2}));
  EXPECT_EQ(errors_of(contains, {1, "a"}),
            "(root): must contain at least 2 item(s) matching \"contains\", found 1");
  EXPECT_EQ(errors_of(contains, {1, 2, 3, 4}),
            "(root): must contain at most 3 item(s) matching \"contains\", found 4");
  // Legacy (draft-07) tuple form: items as an array, additionalItems for the rest.
  json legacy = {{"items", {{{"type", "string"}}}}, {"additionalItems", {{"type", "integer"}}}};
  EXPECT_TRUE(JsonSchema(legacy).is_valid({"a", 1, 2}));
  EXPECT_FALSE(JsonSchema(legacy).is_valid({"a", "b"}));
}

TEST(JsonSchema, Combinators) {
  json one = {{"oneOf", {{{"type", "integer"}}, {{"minimum", 0}}}}};
  EXPECT_TRUE(JsonSchema(one).is_valid(-1));
  EXPECT_TRUE(JsonSchema(one).is_valid(1.5));
  EXPECT_EQ(errors_of(one, 2), "(root): must match exactly one schema in oneOf (matched 2)");
  json any = json::parse(R"({"anyOf": [{"type": "string"},
                                        {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}]})");
  EXPECT_TRUE(JsonSchema(any).is_valid("x"));
  EXPECT_EQ(
      errors_of(any, {{"a", 1}}),
      "(root): must match at least one schema in anyOf (closest anyOf/1: /a: expected string, got number)");
  EXPECT_EQ(JsonSchema(any).validate({{"a", 1}}).size(), 1u);
  EXPECT_EQ(
      errors_of(any, {{"b", 1}}),
      "(root): must match at least one schema in anyOf (closest anyOf/1: missing required property \"a\")");
  json shapes = json::parse(R"({"oneOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                                           {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]})");
  EXPECT_EQ(
      errors_of(shapes, {{"b", "x"}}),
      "(root): must match exactly one schema in oneOf (matched 0; closest oneOf/1: /b: expected integer, "
      "got string)");
  EXPECT_EQ(errors_of({{"anyOf", {{{"type", "string"}}, {{"type", "integer"}}}}}, true),
            "(root): must match at least one schema in anyOf (expected string or integer, got boolean)");
  EXPECT_EQ(errors_of({{"oneOf", {{{"type", "string"}}, {{"type", {"integer", "null"}}}}}}, 1.5),
            "(root): must match exactly one schema in oneOf (matched 0; expected string or integer or null, "
            "got number)");
  EXPECT_EQ(errors_of({{"not", {{"type", "string"}}}}, "x"), "(root): must not match the schema in \"not\"");
  json all = {{"allOf", {{{"minimum", 1}}, {{"maximum", 0}}}}};
  EXPECT_EQ(errors_of(all, 5), "(root): must be <= 0, got 5");
  json cond = json::parse(R"({"if": {"properties": {"kind": {"const": "circle"}}},
                              "then": {"required": ["radius"]}, "else": {"required": ["width"]}})");
  EXPECT_TRUE(JsonSchema(cond).is_valid({{"kind", "circle"}, {"radius", 1}}));
  EXPECT_EQ(errors_of(cond, {{"kind", "circle"}}), "(root): missing required property \"radius\"");
  EXPECT_EQ(errors_of(cond, {{"kind", "square"}}), "(root): missing required property \"width\"");
}

TEST(JsonSchema, BooleanSchemas) {
  EXPECT_TRUE(JsonSchema(true).is_valid({{"anything", 1}}));
  EXPECT_FALSE(JsonSchema(false).is_valid(nullptr));
  EXPECT_EQ(errors_of({{"properties", {{"secret", false}}}}, {{"secret", 1}}),
            "/secret: no value is allowed here (schema is false)");
}

TEST(JsonSchema, RefsToDefsAndPointers) {
  json schema = json::parse(R"({
    "$defs": {"name": {"type": "string", "minLength": 1}, "a/b": {"type": "integer"}, "c%d": {"type": "boolean"}},
    "properties": {
      "first": {"$ref": "#/$defs/name"},
      "slash": {"$ref": "#/$defs/a~1b"},
      "pct": {"$ref": "#/$defs/c%25d"},
      "copy": {"$ref": "#/properties/first", "maxLength": 3}
    }
  })");
  JsonSchema s(schema);
  EXPECT_TRUE(s.is_valid({{"first", "x"}, {"slash", 1}, {"pct", true}, {"copy", "abc"}}));
  EXPECT_EQ(
      join_errors(s.validate({{"first", ""}, {"slash", "1"}, {"pct", 0}, {"copy", "abcd"}})),
      "/copy: must be at most 3 characters long, got 4; /first: must be at least 1 character long, got 0; "
      "/pct: expected boolean, got number; /slash: expected integer, got string");
}

TEST(JsonSchema, RecursiveRefs) {
  json tree = json::parse(R"({
    "type": "object",
    "properties": {"value": {"type": "number"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    "required": ["value"]
  })");
  JsonSchema s(tree);
  json ok = {{"value", 1}, {"children", {{{"value", 2}, {"children", {{{"value", 3}}}}}}}};
  EXPECT_TRUE(s.is_valid(ok));
  json bad = {{"value", 1}, {"children", {{{"value", 2}, {"children", {{{"value", "x"}}}}}}}};
  EXPECT_EQ(join_errors(s.validate(bad)), "/children/0/children/0/value: expected number, got string");
  // Mutually recursive definitions.
  json mutual = json::parse(R"({"$ref": "#/$defs/a", "$defs": {
    "a": {"type": "array", "items": {"$ref": "#/$defs/b"}},
    "b": {"anyOf": [{"type": "integer"}, {"$ref": "#/$defs/a"}]}}})");
  EXPECT_TRUE(JsonSchema(mutual).is_valid(json::parse("[1, [2, [3, []]]]")));
  EXPECT_FALSE(JsonSchema(mutual).is_valid(json::parse("[1, [2, [\"x\"]]]")));
  // A schema that loops without consuming the instance fails instead of overflowing the stack.
  EXPECT_FALSE(JsonSchema(json::parse(R"({"$ref": "#"})")).is_valid(1));
}

TEST(JsonSchema, RefsResolvedAgainstEmbeddedIds) {
  json schema = json::parse(R"({
    "$id": "https://example.com/root.json",
    "properties": {"n": {"$ref": "node.json"}, "a": {"$ref": "#thing"}},
    "$defs": {
      "node": {"$id": "node.json", "type": "object", "properties": {"next": {"$ref": "node.json"}, "v": {"$ref": "#/$defs/v"}},
               "$defs": {"v": {"type": "integer"}}},
      "thing": {"$anchor": "thing", "type": "string"}
    }
  })");
  JsonSchema s(schema);
  EXPECT_TRUE(s.is_valid({{"n", {{"next", {{"v", 1}}}}}, {"a", "x"}}));
  EXPECT_EQ(join_errors(s.validate({{"n", {{"next", {{"v", "1"}}}}}, {"a", 1}})),
            "/a: expected string, got number; /n/next/v: expected integer, got string");
}

TEST(JsonSchema, IgnoresUnknownKeywordsAndAnnotations) {
  json schema = {{"title", "T"},      {"description", "D"},        {"default", 5},   {"examples", {1}},
                 {"format", "email"}, {"x-vendor", {{"type", 5}}}, {"$comment", "c"}};
  EXPECT_TRUE(JsonSchema(schema).is_valid("not an email"));
}

TEST(JsonSchema, MalformedSchemasThrowWithLocation) {
  EXPECT_EQ(compile_error({{"type", "string"}}), "");
  EXPECT_EQ(
      compile_error({{"properties", {{"a", {{"type", 5}}}}}}),
      "invalid schema at /properties/a/type: must be a type name or a non-empty array of type names, got 5");
  EXPECT_EQ(compile_error({{"type", "strin"}}), "invalid schema at /type: unknown type \"strin\"");
  EXPECT_EQ(compile_error({{"minimum", "x"}}), "invalid schema at /minimum: must be a number, got string");
  EXPECT_EQ(compile_error({{"required", "a"}}),
            "invalid schema at /required: must be an array of strings, got string");
  EXPECT_EQ(compile_error({{"required", {"a", 1}}}),
            "invalid schema at /required: must be an array of strings, found 1");
  EXPECT_EQ(compile_error({{"minLength", -1}}),
            "invalid schema at /minLength: must be a non-negative integer, got -1");
  EXPECT_EQ(compile_error({{"minItems", 1.5}}),
            "invalid schema at /minItems: must be a non-negative integer, got 1.5");
  EXPECT_EQ(compile_error({{"multipleOf", 0}}),
            "invalid schema at /multipleOf: must be a number greater than 0");
  EXPECT_EQ(compile_error({{"enum", 1}}), "invalid schema at /enum: must be an array");
  EXPECT_EQ(compile_error({{"anyOf", json::array()}}),
            "invalid schema at /anyOf: must be a non-empty array of schemas");
  EXPECT_EQ(compile_error({{"items", 3}}),
            "invalid schema at /items: a schema must be an object or boolean, got number");
  EXPECT_EQ(compile_error(5), "invalid schema at (root): a schema must be an object or boolean, got number");
  EXPECT_EQ(compile_error({{"$defs", {{"x", {{"maxLength", "3"}}}}}}),
            "invalid schema at /$defs/x/maxLength: must be a non-negative integer, got \"3\"");
  std::string regex = compile_error({{"properties", {{"s", {{"pattern", "(a"}}}}}});
  EXPECT_NE(regex.find("invalid schema at /properties/s/pattern: invalid regular expression \"(a\""),
            std::string::npos)
      << regex;
  regex = compile_error({{"patternProperties", {{"[", true}}}});
  EXPECT_NE(regex.find("invalid schema at /patternProperties/[: invalid regular expression"),
            std::string::npos)
      << regex;
  EXPECT_EQ(compile_error({{"$ref", "#/$defs/missing"}}),
            "invalid schema at /$ref: unresolvable $ref \"#/$defs/missing\": no schema at that location");
  EXPECT_EQ(compile_error({{"$ref", "https://json-schema.org/draft/2020-12/schema"}}),
            "invalid schema at /$ref: unresolvable $ref \"https://json-schema.org/draft/2020-12/schema\" "
            "(only references within this schema are supported)");
  EXPECT_EQ(compile_error({{"$ref", "#nope"}}),
            "invalid schema at /$ref: unresolvable $ref \"#nope\": no anchor \"nope\"");
}

TEST(JsonSchema, MoveKeepsCompiledSchema) {
  JsonSchema a(json{{"type", "string"}});
  JsonSchema b(std::move(a));
  EXPECT_TRUE(b.is_valid("x"));
  JsonSchema c(true);
  c = std::move(b);
  EXPECT_FALSE(c.is_valid(1));
}

TEST(JsonSchema, ConcurrentValidationIsSafe) {
  JsonSchema s(
      json::parse(R"({"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"},
                              "tags": {"type": "array", "items": {"$ref": "#/properties/name"}}}})"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        bool valid = (i + t) % 2 == 0;
        json instance = {{"name", valid ? "abc" : "ABC"}, {"tags", {"x", valid ? "y" : "Y"}}};
        auto errors = s.validate(instance);
        if (errors.empty() != valid || s.is_valid(instance) != valid || (!valid && errors.size() != 2))
          ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace chorus::tools
