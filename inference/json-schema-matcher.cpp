#include "inference/json-schema-matcher.h"

#include <algorithm>
#include <bitset>
#include <optional>

namespace chorus::inference {

// JSON types as bits; "number" allows integers too.
enum : unsigned {
  kNull = 1,
  kBool = 2,
  kInteger = 4,
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
  kAny = 127
};

// then: {required, propertyNames: {enum}} applied when the object's `key` holds the string `value`.
struct Conditional {
  std::string key, value;
  std::vector<std::string> required;
  bool restrict_names = false;
  std::vector<std::string> names;
};

struct SchemaNode {
  unsigned types = kAny;
  bool has_enum = false;
  std::vector<std::string> enum_strings;
  bool has_pattern = false;
  std::vector<std::bitset<256>> pattern;   // one byte class per position, anchored at both ends
  std::optional<double> minimum, maximum;  // integers (bounds on fractions and exponents are not checked)
  std::optional<uint64_t> min_length, max_length;  // strings, in characters
  std::map<std::string, std::shared_ptr<const SchemaNode>> properties;
  std::vector<std::string> required;
  bool additional = true;  // keys beyond `properties`
  std::vector<Conditional> conditionals;
  std::shared_ptr<const SchemaNode> items;  // null: any
  bool tool_call = false;                   // "arguments" follows arguments_by_name[value of "name"]
  std::map<std::string, std::shared_ptr<const SchemaNode>> arguments_by_name;
};

namespace {

using nlohmann::json;
using Frame = JsonSchemaMatcher::Frame;
using Kind = Frame::Kind;

constexpr int kMaxWhitespaceRun =
    20;  // structural whitespace in a row (pretty-printed JSON needs indentation)
constexpr size_t kMaxKeptText = 256;  // string bytes kept for if/then and tool names

const SchemaNode& any_node() {
  static const SchemaNode node;
  return node;
}

const SchemaNode& any_object_node() {
  static const SchemaNode node = [] {
    SchemaNode n;
    n.types = kObject;
    return n;
  }();
  return node;
}

bool is_ws(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
unsigned hex_value(unsigned char c) {
  return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

unsigned type_bits(const std::string& name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBool;
  if (name == "integer") return kInteger;
  if (name == "number") return kNumber | kInteger;
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  return kAny;
}

// "^[0-9]{4}-[0-9]{2}$": literal bytes, \d, \. style escapes and [...] classes (ranges, no negation), each
// with an optional {n}; both anchors required. Anything else: false (the pattern is then not enforced).
bool parse_pattern(const std::string& p, std::vector<std::bitset<256>>& out) {
  if (p.size() < 2 || p.front() != '^' || p.back() != '$') return false;
  const std::string body = p.substr(1, p.size() - 2);
  size_t i = 0;
  while (i < body.size()) {
    std::bitset<256> set;
    const unsigned char c = static_cast<unsigned char>(body[i]);
    if (c == '[') {
      size_t j = i + 1;
      if (j < body.size() && body[j] == '^') return false;
      bool closed = false;
      while (j < body.size()) {
        unsigned char a = static_cast<unsigned char>(body[j]);
        if (a == ']') {
          closed = true;
          break;
        }
        if (a == '\\') {
          if (j + 1 >= body.size()) return false;
          a = static_cast<unsigned char>(body[++j]);
          if (a == 'd') {
            for (unsigned char d = '0'; d <= '9'; ++d) set.set(d);
            ++j;
            continue;
          }
          if (std::string(".-+*?()[]{}|^$\\/").find(static_cast<char>(a)) == std::string::npos)
            return false;  // \w, \s, ...
        }
        if (j + 2 < body.size() && body[j + 1] == '-' && body[j + 2] != ']') {
          const unsigned char b = static_cast<unsigned char>(body[j + 2]);
          if (b < a) return false;
          for (unsigned v = a; v <= b; ++v) set.set(v);
          j += 3;
        } else {
          set.set(a);
          ++j;
        }
      }
      if (!closed || set.none()) return false;
      i = j + 1;
    } else if (c == '\\') {
      if (i + 1 >= body.size()) return false;
      const unsigned char e = static_cast<unsigned char>(body[i + 1]);
      if (e == 'd') {
        for (unsigned char d = '0'; d <= '9'; ++d) set.set(d);
      } else if (std::string(".-+*?()[]{}|^$\\/").find(static_cast<char>(e)) != std::string::npos) {
        set.set(e);
      } else {
        return false;  // \w, \s, \b, ...
      }
      i += 2;
    } else if (std::string(".()*+?|{}^$").find(static_cast<char>(c)) != std::string::npos) {
      return false;
    } else {
      set.set(c);
      i += 1;
    }
    size_t count = 1;
    if (i < body.size() && body[i] == '{') {
      const size_t close = body.find('}', i);
      if (close == std::string::npos || close == i + 1) return false;
      const std::string n = body.substr(i + 1, close - i - 1);
      if (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 3) return false;
      count = std::stoul(n);
      i = close + 1;
    }
    for (size_t k = 0; k < count; ++k) out.push_back(set);
  }
  return !out.empty();
}

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// if {"properties": {K: {"const": V}}} then {...} else {if ... }: one Conditional per branch whose test is a
// single key's const string; other branches are skipped.
void add_conditionals(const json& schema, std::vector<Conditional>& out) {
  const json* at = &schema;
  while (at->is_object() && at->contains("if") && at->contains("then")) {
    const json& test = (*at)["if"];
    const json& then = (*at)["then"];
    if (!test.is_object() || !test.contains("properties") || !test["properties"].is_object() ||
        test["properties"].size() != 1 || !then.is_object())
      break;  // an `if` of another form: what its else-branches mean depends on it, so they are not applied
              // either
    const auto it = test["properties"].begin();
    if (!it.value().is_object() || !it.value().contains("const") || !it.value()["const"].is_string()) break;
    Conditional c;
    c.key = it.key();
    c.value = it.value()["const"].get<std::string>();
    c.required = strings_of(then.value("required", json::array()));
    if (then.contains("propertyNames") && then["propertyNames"].is_object() &&
        then["propertyNames"].contains("enum")) {
      c.restrict_names = true;
      c.names = strings_of(then["propertyNames"]["enum"]);
    }
    out.push_back(std::move(c));
    if (!at->contains("else")) break;
    at = &(*at)["else"];
  }
}

std::shared_ptr<SchemaNode> compile_node(const json& schema) {
  auto node = std::make_shared<SchemaNode>();
  if (!schema.is_object()) return node;  // true, false or anything else: any value
  if (schema.contains("type")) {
    const json& t = schema["type"];
    if (t.is_string()) {
      node->types = type_bits(t.get<std::string>());
    } else if (t.is_array()) {
      unsigned bits = 0;
      for (const auto& name : t)
        if (name.is_string()) bits |= type_bits(name.get<std::string>());
      if (bits) node->types = bits;
    }
  }
  std::vector<std::string> choices;
  if (schema.contains("const") && schema["const"].is_string()) {
    choices.push_back(schema["const"].get<std::string>());
  } else if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty() &&
             std::all_of(schema["enum"].begin(), schema["enum"].end(),
                         [](const json& v) { return v.is_string(); })) {
    choices = strings_of(schema["enum"]);
  }
  if (!choices.empty() && (node->types & kString)) {
    node->types = kString;
    node->has_enum = true;
    node->enum_strings = std::move(choices);
  }
  if ((node->types & kString) && !node->has_enum && schema.contains("pattern") &&
      schema["pattern"].is_string())
    node->has_pattern = parse_pattern(schema["pattern"].get<std::string>(), node->pattern);
  const auto number = [&](const char* key) -> std::optional<double> {
    if (schema.contains(key) && schema[key].is_number()) return schema[key].get<double>();
    return std::nullopt;
  };
  node->minimum = number("minimum");
  node->maximum = number("maximum");
  if (schema.contains("minLength") && schema["minLength"].is_number_unsigned())
    node->min_length = schema["minLength"].get<uint64_t>();
  if (schema.contains("maxLength") && schema["maxLength"].is_number_unsigned())
    node->max_length = schema["maxLength"].get<uint64_t>();
  if (schema.contains("properties") && schema["properties"].is_object())
    for (const auto& [key, sub] : schema["properties"].items()) node->properties[key] = compile_node(sub);
  node->required = strings_of(schema.value("required", json::array()));
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_boolean())
    node->additional = schema["additionalProperties"].get<bool>();
  if (schema.contains("patternProperties")) node->additional = true;  // keys matching a pattern are allowed
  if (schema.contains("items") && schema["items"].is_object()) node->items = compile_node(schema["items"]);
  add_conditionals(schema, node->conditionals);
  return node;
}

const Conditional* matched_conditional(const Frame& f) {
  for (const auto& c : f.node->conditionals) {
    const auto it = f.known.find(c.key);
    if (it != f.known.end() && it->second == c.value) return &c;
  }
  return nullptr;
}

bool used(const Frame& f, const std::string& key) {
  return std::find(f.used.begin(), f.used.end(), key) != f.used.end();
}

// The keys an object may still take, or null when any key may come.
std::vector<std::string> allowed_keys(const Frame& f, bool& any) {
  if (f.node->tool_call &&
      !used(f, "name")) {  // a tool call names its tool first, so its arguments are checked
    any = false;
    return {"name"};
  }
  const Conditional* c = matched_conditional(f);
  std::vector<std::string> names;
  if (c && c->restrict_names) {
    for (const auto& name : c->names)
      if (f.node->additional || f.node->properties.count(name)) names.push_back(name);
    any = false;
  } else {
    any = f.node->additional;
    for (const auto& [key, sub] : f.node->properties) names.push_back(key);
  }
  names.erase(std::remove_if(names.begin(), names.end(), [&](const std::string& k) { return used(f, k); }),
              names.end());
  return names;
}

bool required_met(const Frame& f) {
  for (const auto& key : f.node->required)
    if (!used(f, key)) return false;
  if (const Conditional* c = matched_conditional(f))
    for (const auto& key : c->required)
      if (!used(f, key)) return false;
  return true;
}

bool any_has_prefix(const std::vector<std::string>& names, const std::string& prefix) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return n.compare(0, prefix.size(), prefix) == 0; });
}

// An integer's digits so far (or, `whole`, the finished integer) against minimum/maximum: a non-negative
// prefix only grows as digits follow, a negative one only falls.
bool within_bounds(const Frame& f, bool whole) {
  if (f.node->types & kNumber) return true;  // bounds are checked on integers only
  const double value = f.negative ? -f.magnitude : f.magnitude;
  if (f.node->maximum && !f.negative && value > *f.node->maximum) return false;
  if (f.node->minimum && f.negative && value < *f.node->minimum) return false;
  if (whole || f.phase == 1)  // "0" takes no more digits
    return (!f.node->minimum || value >= *f.node->minimum) && (!f.node->maximum || value <= *f.node->maximum);
  return true;
}

// One more character of a string, against maxLength.
bool count_char(Frame& f) {
  ++f.chars;
  return !f.node->max_length || f.chars <= *f.node->max_length;
}

// Whether a string frame's characters are checked (and so may not use escapes).
bool restricted(const Frame& s, const Frame* parent) {
  if (s.is_key) {
    bool any = false;
    allowed_keys(*parent, any);
    return !any;
  }
  return s.node->has_enum || s.node->has_pattern;
}

}  // namespace

std::shared_ptr<const SchemaNode> compile_json_schema(const nlohmann::json& schema) {
  return compile_node(schema);
}

std::shared_ptr<const SchemaNode> compile_tool_call_schema(
    const std::map<std::string, nlohmann::json>& tools) {
  auto envelope = std::make_shared<SchemaNode>();
  envelope->types = kObject;
  envelope->additional = false;
  envelope->tool_call = true;
  envelope->required = {"name", "arguments"};
  auto name = std::make_shared<SchemaNode>();
  name->types = kString;
  name->has_enum = true;
  for (const auto& [tool, parameters] : tools) {
    name->enum_strings.push_back(tool);
    auto arguments = compile_node(parameters);
    arguments->types &= kObject;
    if (!arguments->types) arguments->types = kObject;
    envelope->arguments_by_name[tool] = std::move(arguments);
  }
  envelope->properties["name"] = name;
  auto arguments = std::make_shared<SchemaNode>();
  arguments->types = kObject;
  envelope->properties["arguments"] = arguments;
  return envelope;
}

JsonSchemaMatcher::JsonSchemaMatcher(std::shared_ptr<const SchemaNode> schema) : schema_(std::move(schema)) {
  Frame root;
  root.node = schema_ ? schema_.get() : &any_node();
  stack_.push_back(std::move(root));
}

bool JsonSchemaMatcher::feed(unsigned char byte) {
  JsonSchemaMatcher next = *this;
  if (!next.step(byte)) return false;
  *this = std::move(next);
  return true;
}

bool JsonSchemaMatcher::feed(const std::string& bytes) {
  for (unsigned char c : bytes)
    if (!feed(c)) return false;
  return true;
}

bool JsonSchemaMatcher::complete() const {
  if (done_) return true;
  if (stack_.size() != 1 || stack_.back().kind != Kind::number) return false;
  const uint8_t p = stack_.back().phase;
  return p == 1 || p == 2 || p == 4 || p == 7;
}

bool JsonSchemaMatcher::inside_plain_string() const {
  if (done_ || stack_.empty()) return false;
  const Frame& f = stack_.back();
  if (f.kind != Kind::string || f.escape != 0 || f.want_low || !f.utf8.at_boundary()) return false;
  if (!f.is_key) return !f.node->has_enum && !f.node->has_pattern && !f.node->max_length;
  bool any = false;
  allowed_keys(stack_[stack_.size() - 2], any);
  return any;
}

bool JsonSchemaMatcher::step(unsigned char c) {
  if (!is_ws(c)) whitespace_run_ = 0;
  const auto whitespace = [&] { return ++whitespace_run_ <= kMaxWhitespaceRun; };
  if (done_) return is_ws(c) && whitespace();

  // The value on top is whole: pop it and move its parent on.
  const auto finish_value = [&]() -> bool {
    Frame child = std::move(stack_.back());
    stack_.pop_back();
    if (stack_.empty()) {
      done_ = true;
      return true;
    }
    Frame& parent = stack_.back();
    if (parent.kind == Kind::object && parent.phase == 2) {  // a key
      bool any = false;
      const auto names = allowed_keys(parent, any);
      if (used(parent, child.text)) return false;
      if (!any && std::find(names.begin(), names.end(), child.text) == names.end()) return false;
      parent.key = child.text;
      parent.phase = 3;
    } else if (parent.kind == Kind::object && parent.phase == 4) {  // a value
      parent.used.push_back(parent.key);
      if (child.kind == Kind::string && child.text.size() < kMaxKeptText)
        parent.known[parent.key] = child.text;
      parent.phase = 5;
    } else if (parent.kind == Kind::array && parent.phase == 1) {
      parent.phase = 2;
    }
    return true;
  };
  const auto push = [&](Kind kind, const SchemaNode* node) {
    Frame f;
    f.kind = kind;
    f.node = node;
    stack_.push_back(std::move(f));
  };

  for (;;) {
    Frame& f = stack_.back();
    switch (f.kind) {
      case Kind::value: {
        if (is_ws(c)) return whitespace();
        const unsigned types = f.node->types;
        if (c == '{' && (types & kObject)) {
          f.kind = Kind::object;
          f.phase = 0;
          return true;
        }
        if (c == '[' && (types & kArray)) {
          f.kind = Kind::array;
          f.phase = 0;
          return true;
        }
        if (c == '"' && (types & kString)) {
          f.kind = Kind::string;
          return true;
        }
        if ((c == '-' || is_digit(c)) && (types & (kInteger | kNumber))) {
          f.kind = Kind::number;
          f.phase = c == '-' ? 0 : c == '0' ? 1 : 2;
          f.negative = c == '-';
          f.magnitude = c == '-' ? 0 : c - '0';
          return within_bounds(f, /*whole=*/false);
        }
        const char* rest = c == 't' && (types & kBool)   ? "rue"
                           : c == 'f' && (types & kBool) ? "alse"
                           : c == 'n' && (types & kNull) ? "ull"
                                                         : nullptr;
        if (!rest) return false;
        f.kind = Kind::literal;
        f.text = rest;
        return true;
      }
      case Kind::literal:
        if (c != static_cast<unsigned char>(f.text.front())) return false;
        f.text.erase(0, 1);
        return f.text.empty() ? finish_value() : true;
      case Kind::number: {
        const bool integer = !(f.node->types & kNumber);
        switch (f.phase) {
          case 0:
            if (!is_digit(c)) return false;
            f.phase = c == '0' ? 1 : 2;
            f.magnitude = c - '0';
            return within_bounds(f, /*whole=*/false);
          case 1:
          case 2:
            if (f.phase == 2 && is_digit(c)) {
              f.magnitude = f.magnitude * 10 + (c - '0');
              return within_bounds(f, /*whole=*/false);
            }
            if (c == '.' && !integer) return f.phase = 3, true;
            if ((c == 'e' || c == 'E') && !integer) return f.phase = 5, true;
            break;
          case 3:
            if (!is_digit(c)) return false;
            return f.phase = 4, true;
          case 4:
            if (is_digit(c)) return true;
            if (c == 'e' || c == 'E') return f.phase = 5, true;
            break;
          case 5:
            if (c == '+' || c == '-') return f.phase = 6, true;
            if (!is_digit(c)) return false;
            return f.phase = 7, true;
          case 6:
            if (!is_digit(c)) return false;
            return f.phase = 7, true;
          default:  // 7
            if (is_digit(c)) return true;
            break;
        }
        if ((f.phase == 1 || f.phase == 2) && !within_bounds(f, /*whole=*/true)) return false;
        if (!finish_value()) return false;  // the number ended; `c` belongs to what holds it
        if (done_) return is_ws(c) && whitespace();
        continue;
      }
      case Kind::string: {
        const Frame* parent = stack_.size() > 1 ? &stack_[stack_.size() - 2] : nullptr;
        // Free strings keep their first bytes (raw, escapes as written) for if/then and tool names.
        const auto keep = [&] {
          if (f.is_key || f.text.size() <= kMaxKeptText) f.text.push_back(static_cast<char>(c));
        };
        if (f.escape == 1) {
          if (c == 'u') {
            f.escape = 2;
            f.code = 0;
            keep();
            return true;
          }
          if (f.want_low || std::string("\"\\/bfnrt").find(static_cast<char>(c)) == std::string::npos)
            return false;
          f.escape = 0;
          keep();
          return true;
        }
        if (f.escape >=
            2) {  // \uXXXX: a high surrogate needs a low one right after; a low one alone is refused
          if (!is_hex(c)) return false;
          f.code = static_cast<uint16_t>(f.code * 16 + hex_value(c));
          keep();
          if (f.escape < 5) {
            ++f.escape;
            return true;
          }
          f.escape = 0;
          const bool high = f.code >= 0xD800 && f.code <= 0xDBFF, low = f.code >= 0xDC00 && f.code <= 0xDFFF;
          if (f.want_low) {
            f.want_low = false;
            return low;
          }
          f.want_low = high;
          return !low;
        }
        if (f.want_low && c != '\\') return false;
        if (!f.utf8.at_boundary()) {
          if (!f.utf8.step(c)) return false;  // a continuation byte
        } else {
          if (c < 0x20) return false;
          if (c == '\\') {
            if (restricted(f, parent)) return false;
            if (!count_char(f)) return false;
            f.escape = 1;
            keep();
            return true;
          }
          if (c == '"') {
            if (f.node->min_length && f.chars < *f.node->min_length) return false;
            if (f.is_key) return finish_value();  // finish_value checks the whole key
            if (f.node->has_enum && std::find(f.node->enum_strings.begin(), f.node->enum_strings.end(),
                                              f.text) == f.node->enum_strings.end())
              return false;
            if (f.node->has_pattern && f.text.size() != f.node->pattern.size()) return false;
            return finish_value();
          }
          if (c >= 0x80 && !f.utf8.step(c)) return false;
          if (!count_char(f)) return false;  // an ASCII byte or a character's first byte
        }
        if (f.is_key) {
          f.text.push_back(static_cast<char>(c));
          bool any = false;
          const auto names = allowed_keys(*parent, any);
          return any || any_has_prefix(names, f.text);
        }
        if (f.node->has_enum) {
          f.text.push_back(static_cast<char>(c));
          return any_has_prefix(f.node->enum_strings, f.text);
        }
        if (f.node->has_pattern) {
          f.text.push_back(static_cast<char>(c));
          return f.text.size() <= f.node->pattern.size() && f.node->pattern[f.text.size() - 1].test(c);
        }
        keep();
        return true;
      }
      case Kind::object:
        if (is_ws(c)) return whitespace();
        switch (f.phase) {
          case 0:  // after '{'
          case 1:  // after ','
            if (c == '"') {
              bool any = false;
              const auto names = allowed_keys(f, any);
              if (!any && names.empty()) return false;
              f.phase = 2;
              push(Kind::string, &any_node());
              stack_.back().is_key = true;
              return true;
            }
            if (c == '}' && f.phase == 0) return required_met(f) && finish_value();
            return false;
          case 3:  // after a key
            if (c != ':') return false;
            f.phase = 4;
            {
              const SchemaNode* value = &any_node();
              if (f.node->tool_call && f.key == "arguments") {
                const auto name = f.known.find("name");
                const auto tool = name == f.known.end() ? f.node->arguments_by_name.end()
                                                        : f.node->arguments_by_name.find(name->second);
                value = tool == f.node->arguments_by_name.end() ? &any_object_node() : tool->second.get();
              } else if (const auto p = f.node->properties.find(f.key); p != f.node->properties.end()) {
                value = p->second.get();
              }
              push(Kind::value, value);
            }
            return true;
          case 5:  // after a value
            if (c == ',') {
              bool any = false;
              const auto names = allowed_keys(f, any);
              if (!any && names.empty()) return false;
              f.phase = 1;
              return true;
            }
            if (c == '}') return required_met(f) && finish_value();
            return false;
          default:
            return false;
        }
      case Kind::array:
        if (is_ws(c)) return whitespace();
        if (f.phase == 2) {
          if (c == ',') return f.phase = 3, true;
          if (c == ']') return finish_value();
          return false;
        }
        if (c == ']' && f.phase == 0) return finish_value();
        f.phase = 1;
        push(Kind::value, f.node->items ? f.node->items.get() : &any_node());
        continue;  // the element starts with `c`
    }
  }
}

}  // namespace chorus::inference
