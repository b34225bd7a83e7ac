#pragma once
// Checks JSON byte by byte as it is generated against a subset of JSON Schema, so that decoding can keep only
// the tokens that leave a valid prefix (tool-call-constraint.h). The subset: type, enum/const of strings,
// properties, required, additionalProperties: false, items, minimum/maximum of integers, minLength/maxLength,
// patterns made of literal characters and [..] classes with {n} counts (dates like
// ^[0-9]{4}-[0-9]{2}-[0-9]{2}$), and if/then/else chains that pick required keys and propertyNames by one key's
// const string (the calendar tool's "operation"). Other keywords are ignored, so the matcher accepts every
// document the schema accepts, with three deliberate exceptions: an object may not repeat a key, "integer" is
// written without fraction or exponent, and at most 20 whitespace bytes come in a row. Without a schema it
// accepts exactly the JSON nlohmann::json accepts (UTF-8 and \u surrogates checked), bar those three.
#include "inference/utf8-stepper.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chorus::inference {

struct SchemaNode;  // a compiled schema (json-schema-matcher.cpp)

// Compiles `schema` (a JSON Schema object; true/{} accept any value); never throws for unsupported keywords.
std::shared_ptr<const SchemaNode> compile_json_schema(const nlohmann::json& schema);

// The schema of a Hermes tool call {"name": NAME, "arguments": {...}}: NAME one of `tools`' names and written
// first, then the arguments matching that tool's parameters schema.
std::shared_ptr<const SchemaNode> compile_tool_call_schema(
    const std::map<std::string, nlohmann::json>& tools);

// An incremental matcher: feed() bytes one at a time; it refuses the first byte after which no completion of
// the text so far can match. Copyable (a token's bytes are tried on a copy).
class JsonSchemaMatcher {
 public:
  explicit JsonSchemaMatcher(std::shared_ptr<const SchemaNode> schema);
  // False (and the state unchanged) when `byte` cannot continue a matching document.
  bool feed(unsigned char byte);
  // Feeds every byte; false at the first refused one.
  bool feed(const std::string& bytes);
  // feed() without keeping the state on refusal (faster): after false the matcher must not be used again.
  bool advance(unsigned char byte) { return step(byte); }
  // Whether the bytes so far are a whole matching document (a number at the root counts once it could end).
  bool complete() const;
  // Whether the text is inside a string that any well-formed UTF-8 without '"', '\\' or controls continues
  // (no enum or pattern, no key restricted to names, between characters and escapes).
  bool inside_plain_string() const;

  struct Frame;

 private:
  bool step(unsigned char byte);
  std::shared_ptr<const SchemaNode> schema_;
  std::vector<Frame> stack_;
  int whitespace_run_ = 0;
  bool done_ = false;
};

struct JsonSchemaMatcher::Frame {
  enum class Kind : uint8_t { value, object, array, string, number, literal };
  Kind kind = Kind::value;
  const SchemaNode* node = nullptr;
  uint8_t phase = 0;      // per kind (json-schema-matcher.cpp)
  bool is_key = false;    // string: an object key
  uint8_t escape = 0;     // string: 1 after '\', 2..5 inside \uXXXX
  uint16_t code = 0;      // string: the \uXXXX being read
  bool want_low = false;  // string: a high surrogate was read; a \uDC00-\uDFFF must follow
  Utf8Stepper utf8;       // string: the raw bytes so far are well-formed UTF-8
  uint64_t chars = 0;     // string: characters so far (an escape counts as one)
  bool negative = false;  // number: after '-'
  double magnitude = 0;   // number: the integer digits so far
  std::string text;       // string: the characters so far (keys, enums, patterns); literal: what is left
  std::string key;        // object: the key whose value is being read
  std::vector<std::string> used;  // object: keys written so far
  std::map<std::string, std::string>
      known;  // object: string values of keys so far (for if/then and tool names)
};

}  // namespace chorus::inference
