// JSON Schema (draft 2020-12) validator.
//
// The schema document is compiled once into a graph of Nodes, each holding a list of keyword checks;
// $ref becomes a pointer to the target Node (memoised by document location, so recursive schemas are
// compiled once and form cycles). validate() only walks that graph: it keeps no shared mutable state,
// so concurrent calls are safe. A check runs in one of two modes: collecting errors (Ctx::out set) or
// just answering yes/no (used inside anyOf/oneOf/not/if/contains, where it may stop early).
#include "tools/json-schema.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace chorus::tools {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Small helpers: JSON values, pointers, URIs.

std::string pointer_token(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '~')
      out += "~0";
    else if (ch == '/')
      out += "~1";
    else
      out += ch;
  }
  return out;
}

std::string location(const std::string& ptr) {
  return ptr.empty() ? "(root)" : ptr;
}

[[noreturn]] void bad_schema(const std::string& ptr, const std::string& problem) {
  throw SchemaCompileError("invalid schema at " + location(ptr) + ": " + problem);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    default:
      return "number";
  }
}

// Every JSON number converts exactly to an x87 long double (64-bit mantissa), so comparisons are exact.
long double num(const json& v) {
  if (v.is_number_unsigned()) return static_cast<long double>(v.get<std::uint64_t>());
  if (v.is_number_integer()) return static_cast<long double>(v.get<std::int64_t>());
  return static_cast<long double>(v.get<double>());
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

// JSON equality: numbers compare by value (1 == 1.0), never equal to booleans; objects ignore order.
bool json_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return num(a) == num(b);
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!json_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !json_equal(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

std::string short_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 200 ? s.substr(0, 197) + "..." : s;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// RFC 3986 reference resolution (section 5.2), enough for $id/$ref handling.
struct Uri {
  std::string scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;

  static Uri parse(const std::string& s) {
    Uri u;
    std::size_t pos = 0;
    std::size_t colon = s.find(':');
    if (colon != std::string::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(s[0])) &&
        s.find_first_of("/?#") > colon) {
      u.has_scheme = true;
      u.scheme = s.substr(0, colon);
      pos = colon + 1;
    }
    if (s.compare(pos, 2, "//") == 0) {
      std::size_t end = s.find_first_of("/?#", pos + 2);
      if (end == std::string::npos) end = s.size();
      u.has_authority = true;
      u.authority = s.substr(pos + 2, end - pos - 2);
      pos = end;
    }
    std::size_t end = s.find_first_of("?#", pos);
    if (end == std::string::npos) end = s.size();
    u.path = s.substr(pos, end - pos);
    pos = end;
    if (pos < s.size() && s[pos] == '?') {
      end = s.find('#', pos);
      if (end == std::string::npos) end = s.size();
      u.has_query = true;
      u.query = s.substr(pos + 1, end - pos - 1);
      pos = end;
    }
    if (pos < s.size()) {
      u.has_fragment = true;
      u.fragment = s.substr(pos + 1);
    }
    return u;
  }

  std::string str(bool with_fragment = true) const {
    std::string s;
    if (has_scheme) s += scheme + ":";
    if (has_authority) s += "//" + authority;
    s += path;
    if (has_query) s += "?" + query;
    if (with_fragment && has_fragment) s += "#" + fragment;
    return s;
  }

  static std::string remove_dots(std::string in) {
    std::string out;
    while (!in.empty()) {
      if (in.rfind("../", 0) == 0)
        in.erase(0, 3);
      else if (in.rfind("./", 0) == 0)
        in.erase(0, 2);
      else if (in.rfind("/./", 0) == 0)
        in.erase(0, 2);
      else if (in == "/.")
        in = "/";
      else if (in.rfind("/../", 0) == 0 || in == "/..") {
        in = "/" + in.substr(in.size() == 3 ? 3 : 4);
        std::size_t cut = out.rfind('/');
        out.erase(cut == std::string::npos ? 0 : cut);
      } else if (in == "." || in == "..") {
        in.clear();
      } else {
        std::size_t next = in.find('/', in[0] == '/' ? 1 : 0);
        if (next == std::string::npos) next = in.size();
        out += in.substr(0, next);
        in.erase(0, next);
      }
    }
    return out;
  }

  static std::string resolve(const std::string& base_str, const std::string& ref_str) {
    Uri r = parse(ref_str), b = parse(base_str), t;
    if (r.has_scheme) {
      t = r;
      t.path = remove_dots(r.path);
    } else {
      if (r.has_authority) {
        t.has_authority = true;
        t.authority = r.authority;
        t.path = remove_dots(r.path);
        t.has_query = r.has_query;
        t.query = r.query;
      } else {
        if (r.path.empty()) {
          t.path = b.path;
          t.has_query = r.has_query || b.has_query;
          t.query = r.has_query ? r.query : b.query;
        } else {
          if (r.path[0] == '/') {
            t.path = remove_dots(r.path);
          } else if (b.has_authority && b.path.empty()) {
            t.path = remove_dots("/" + r.path);
          } else {
            std::size_t slash = b.path.rfind('/');
            t.path = remove_dots((slash == std::string::npos ? "" : b.path.substr(0, slash + 1)) + r.path);
          }
          t.has_query = r.has_query;
          t.query = r.query;
        }
        t.has_authority = b.has_authority;
        t.authority = b.authority;
      }
      t.has_scheme = b.has_scheme;
      t.scheme = b.scheme;
    }
    t.has_fragment = r.has_fragment;
    t.fragment = r.fragment;
    return t.str();
  }
};

// ECMA-262 long Unicode property names (\p{Letter}, \p{Script=Greek}) -> PCRE2 spellings.
std::string ecma_to_pcre(const std::string& pattern) {
  static const std::map<std::string, std::string> kCategories = {{"Letter", "L"},
                                                                 {"Cased_Letter", "L&"},
                                                                 {"Uppercase_Letter", "Lu"},
                                                                 {"Lowercase_Letter", "Ll"},
                                                                 {"Titlecase_Letter", "Lt"},
                                                                 {"Modifier_Letter", "Lm"},
                                                                 {"Other_Letter", "Lo"},
                                                                 {"Mark", "M"},
                                                                 {"Nonspacing_Mark", "Mn"},
                                                                 {"Spacing_Mark", "Mc"},
                                                                 {"Enclosing_Mark", "Me"},
                                                                 {"Number", "N"},
                                                                 {"Decimal_Number", "Nd"},
                                                                 {"digit", "Nd"},
                                                                 {"Letter_Number", "Nl"},
                                                                 {"Other_Number", "No"},
                                                                 {"Punctuation", "P"},
                                                                 {"punct", "P"},
                                                                 {"Connector_Punctuation", "Pc"},
                                                                 {"Dash_Punctuation", "Pd"},
                                                                 {"Open_Punctuation", "Ps"},
                                                                 {"Close_Punctuation", "Pe"},
                                                                 {"Initial_Punctuation", "Pi"},
                                                                 {"Final_Punctuation", "Pf"},
                                                                 {"Other_Punctuation", "Po"},
                                                                 {"Symbol", "S"},
                                                                 {"Math_Symbol", "Sm"},
                                                                 {"Currency_Symbol", "Sc"},
                                                                 {"Modifier_Symbol", "Sk"},
                                                                 {"Other_Symbol", "So"},
                                                                 {"Separator", "Z"},
                                                                 {"Space_Separator", "Zs"},
                                                                 {"Line_Separator", "Zl"},
                                                                 {"Paragraph_Separator", "Zp"},
                                                                 {"Other", "C"},
                                                                 {"Control", "Cc"},
                                                                 {"cntrl", "Cc"},
                                                                 {"Format", "Cf"},
                                                                 {"Surrogate", "Cs"},
                                                                 {"Private_Use", "Co"},
                                                                 {"Unassigned", "Cn"}};
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char ch = pattern[i];
    out += ch;
    if (ch != '\\' || i + 1 >= pattern.size()) continue;
    char next = pattern[++i];
    out += next;
    std::size_t close = pattern.find('}', i);
    if ((next != 'p' && next != 'P') || i + 1 >= pattern.size() || pattern[i + 1] != '{' ||
        close == std::string::npos)
      continue;
    std::string name = pattern.substr(i + 2, close - i - 2);
    for (const char* prefix : {"General_Category=", "gc=", "Script=", "sc="}) {
      if (name.rfind(prefix, 0) == 0) name = name.substr(std::string_view(prefix).size());
    }
    if (auto it = kCategories.find(name); it != kCategories.end()) name = it->second;
    out += "{" + name + "}";
    i = close;
  }
  return out;
}

// A compiled ECMA-262 regex (search semantics, Unicode). pcre2_code is safe to share across threads;
// each thread uses its own match block.
class Regex {
 public:
  Regex(const std::string& pattern, const std::string& where) : source_(pattern) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    std::string translated = ecma_to_pcre(pattern);
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &offset, nullptr);
    if (!code_) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(err, buf, sizeof buf);
      bad_schema(where, "invalid regular expression \"" + pattern + "\": " + reinterpret_cast<char*>(buf) +
                            " at offset " + std::to_string(offset));
    }
    pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back to the interpreter
  }
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool search(const std::string& s) const {
    struct MatchData {
      pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
      ~MatchData() { pcre2_match_data_free(md); }
    };
    thread_local MatchData data;
    auto subject = reinterpret_cast<PCRE2_SPTR>(s.data());
    int rc = pcre2_match(code_, subject, s.size(), 0, 0, data.md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
      rc = pcre2_match(code_, subject, s.size(), 0, PCRE2_NO_JIT, data.md, nullptr);
    return rc >= 0;  // errors such as the backtracking limit count as "no match"
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  pcre2_code* code_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Compiled schema graph.

struct Ctx {
  std::vector<SchemaError>* out = nullptr;  // null: only the yes/no answer matters
  std::string path;                         // JSON pointer of the current instance location
  int depth = 0;

  bool fail(std::string message) {
    if (out) out->push_back({path, std::move(message)});
    return false;
  }
};

// Appends a token to the instance path for the lifetime of the guard.
class PathGuard {
 public:
  PathGuard(Ctx& c, std::string_view token) : c_(c), size_(c.path.size()) {
    c.path += '/';
    c.path += pointer_token(token);
  }
  PathGuard(Ctx& c, std::size_t index) : c_(c), size_(c.path.size()) {
    c.path += "/" + std::to_string(index);
  }
  ~PathGuard() { c_.path.resize(size_); }

 private:
  Ctx& c_;
  std::size_t size_;
};

struct Keyword {
  virtual ~Keyword() = default;
  virtual bool check(const json& v, Ctx& c) const = 0;
};

struct Node {
  int boolean = -1;  // -1: an object schema; 0: false; 1: true
  std::vector<std::unique_ptr<Keyword>> keywords;

  bool check(const json& v, Ctx& c) const {
    if (boolean == 1) return true;
    if (boolean == 0) return c.fail("no value is allowed here (schema is false)");
    bool ok = true;
    for (const auto& k : keywords) {
      if (!k->check(v, c)) {
        ok = false;
        if (!c.out) return false;
      }
    }
    return ok;
  }
  bool matches(const json& v, Ctx& c) const {  // yes/no, without recording errors
    auto* saved = c.out;
    c.out = nullptr;
    bool ok = check(v, c);
    c.out = saved;
    return ok;
  }
  // Collects this node's errors for `v` into a separate list (used to explain anyOf/oneOf failures).
  std::vector<SchemaError> errors(const json& v, Ctx& c) const {
    std::vector<SchemaError> errs;
    auto* saved = c.out;
    c.out = &errs;
    check(v, c);
    c.out = saved;
    return errs;
  }
};

enum TypeBit : unsigned {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64
};

struct TypeKw : Keyword {
  unsigned mask = 0;
  std::string expected;
  bool check(const json& v, Ctx& c) const override {
    unsigned have = 0;
    switch (v.type()) {
      case json::value_t::null:
        have = kNull;
        break;
      case json::value_t::boolean:
        have = kBoolean;
        break;
      case json::value_t::object:
        have = kObject;
        break;
      case json::value_t::array:
        have = kArray;
        break;
      case json::value_t::string:
        have = kString;
        break;
      default:
        have = kNumber | (is_integral(v) ? kInteger : 0u);
    }
    if (mask & have) return true;
    return c.fail("expected " + expected + ", got " + type_name(v));
  }
};

struct EnumKw : Keyword {
  json values;  // array
  bool check(const json& v, Ctx& c) const override {
    for (const auto& candidate : values)
      if (json_equal(v, candidate)) return true;
    return c.fail("must be one of " + short_dump(values));
  }
};

struct ConstKw : Keyword {
  json value;
  bool check(const json& v, Ctx& c) const override {
    return json_equal(v, value) || c.fail("must be equal to " + short_dump(value));
  }
};

struct LimitKw : Keyword {
  enum Op { kGe, kGt, kLe, kLt } op;
  json limit;
  LimitKw(Op o, json l) : op(o), limit(std::move(l)) {}
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_number()) return true;
    long double x = num(v), l = num(limit);
    static const char* const kOps[] = {">=", ">", "<=", "<"};
    bool ok = op == kGe ? x >= l : op == kGt ? x > l : op == kLe ? x <= l : x < l;
    return ok || c.fail(std::string("must be ") + kOps[op] + " " + limit.dump() + ", got " + v.dump());
  }
};

struct MultipleOfKw : Keyword {
  json divisor;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_number()) return true;
    bool ok;
    if (v.is_number_integer() && divisor.is_number_integer()) {
      ok = std::fmod(num(v), num(divisor)) == 0;  // exact for integers
    } else {
      double q = v.get<double>() / divisor.get<double>();
      // The quotient of two decimal fractions carries a few ulps of binary rounding error.
      ok = std::isfinite(q) && std::fabs(q - std::nearbyint(q)) <= std::fabs(q) * 8 * DBL_EPSILON;
    }
    return ok || c.fail("must be a multiple of " + divisor.dump() + ", got " + v.dump());
  }
};

// minLength/maxLength (strings), minItems/maxItems (arrays), minProperties/maxProperties (objects).
struct SizeKw : Keyword {
  json::value_t applies;
  bool is_min;
  std::size_t limit;
  SizeKw(json::value_t t, bool m, std::size_t l) : applies(t), is_min(m), limit(l) {}
  bool check(const json& v, Ctx& c) const override {
    if (v.type() != applies) return true;
    std::size_t n =
        applies == json::value_t::string ? code_points(v.get_ref<const std::string&>()) : v.size();
    if (is_min ? n >= limit : n <= limit) return true;
    const bool str = applies == json::value_t::string, one = limit == 1;
    std::string unit = str                               ? (one ? "character long" : "characters long")
                       : applies == json::value_t::array ? (one ? "item" : "items")
                                                         : (one ? "property" : "properties");
    return c.fail(std::string(str ? "must be " : "must have ") + (is_min ? "at least " : "at most ") +
                  std::to_string(limit) + " " + unit + ", got " + std::to_string(n));
  }
};

struct PatternKw : Keyword {
  std::unique_ptr<Regex> regex;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_string() || regex->search(v.get_ref<const std::string&>())) return true;
    return c.fail("must match pattern \"" + regex->source() + "\"");
  }
};

struct UniqueKw : Keyword {
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_array()) return true;
    for (std::size_t i = 0; i < v.size(); ++i)
      for (std::size_t j = i + 1; j < v.size(); ++j)
        if (json_equal(v[i], v[j]))
          return c.fail("must have unique items (items " + std::to_string(i) + " and " + std::to_string(j) +
                        " are equal)");
    return true;
  }
};

struct RequiredKw : Keyword {
  std::vector<std::string> names;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const auto& name : names) {
      if (!v.contains(name)) {
        ok = c.fail("missing required property \"" + name + "\"");
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

struct DependentRequiredKw : Keyword {
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const auto& [trigger, names] : deps) {
      if (!v.contains(trigger)) continue;
      for (const auto& name : names) {
        if (v.contains(name)) continue;
        ok = c.fail("property \"" + name + "\" is required when \"" + trigger + "\" is present");
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

struct DependentSchemasKw : Keyword {
  std::vector<std::pair<std::string, const Node*>> deps;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (const auto& [trigger, node] : deps) {
      if (v.contains(trigger) && !node->check(v, c)) {
        ok = false;
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

// properties + patternProperties + additionalProperties (the last depends on the first two).
struct PropertiesKw : Keyword {
  std::map<std::string, const Node*, std::less<>> properties;
  std::vector<std::pair<std::unique_ptr<Regex>, const Node*>> patterns;
  const Node* additional = nullptr;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& key = it.key();
      bool matched = false, item_ok = true;
      std::size_t parent = c.path.size();
      PathGuard guard(c, key);
      if (auto p = properties.find(key); p != properties.end()) {
        matched = true;
        item_ok = p->second->check(it.value(), c);
      }
      for (const auto& [regex, node] : patterns) {
        if ((item_ok || c.out) && regex->search(key)) {
          matched = true;
          item_ok = node->check(it.value(), c) && item_ok;
        }
      }
      if (!matched && additional) {
        if (additional->boolean == 0) {
          item_ok = false;
          if (c.out)
            c.out->push_back(
                {c.path.substr(0, parent), "additional property \"" + key + "\" is not allowed"});
        } else {
          item_ok = additional->check(it.value(), c);
        }
      }
      if (!item_ok) {
        ok = false;
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

struct PropertyNamesKw : Keyword {
  const Node* names = nullptr;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_object()) return true;
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      json key = it.key();
      if (names->matches(key, c)) continue;
      ok = false;
      if (!c.out) return false;
      std::string why;
      for (const auto& e : names->errors(key, c)) why += (why.empty() ? "" : ", ") + e.message;
      c.fail("property name \"" + it.key() + "\" is invalid: " + why);
    }
    return ok;
  }
};

// prefixItems + items.
struct ItemsKw : Keyword {
  std::vector<const Node*> prefix;
  const Node* rest = nullptr;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_array()) return true;
    bool ok = true;
    if (rest && rest->boolean == 0 && v.size() > prefix.size()) {
      ok = c.fail("must have at most " + std::to_string(prefix.size()) + " items, got " +
                  std::to_string(v.size()));
      if (!c.out) return false;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Node* node = i < prefix.size() ? prefix[i] : rest;
      if (!node || (i >= prefix.size() && rest->boolean == 0)) break;
      PathGuard guard(c, i);
      if (!node->check(v[i], c)) {
        ok = false;
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

struct ContainsKw : Keyword {
  const Node* node = nullptr;
  std::size_t min = 1, max = SIZE_MAX;
  bool check(const json& v, Ctx& c) const override {
    if (!v.is_array()) return true;
    std::size_t found = 0;
    for (const auto& item : v) found += node->matches(item, c);
    if (found < min)
      return c.fail("must contain at least " + std::to_string(min) +
                    " item(s) matching \"contains\", found " + std::to_string(found));
    if (found > max)
      return c.fail("must contain at most " + std::to_string(max) + " item(s) matching \"contains\", found " +
                    std::to_string(found));
    return true;
  }
};

struct AllOfKw : Keyword {
  std::vector<const Node*> nodes;
  bool check(const json& v, Ctx& c) const override {
    bool ok = true;
    for (const Node* n : nodes) {
      if (!n->check(v, c)) {
        ok = false;
        if (!c.out) return false;
      }
    }
    return ok;
  }
};

// anyOf / oneOf: one summarising error, explained by the branch that came closest.
struct ChoiceKw : Keyword {
  bool one_of = false;
  std::vector<const Node*> nodes;
  bool check(const json& v, Ctx& c) const override {
    std::size_t matched = 0;
    for (const Node* n : nodes) {
      if (!n->matches(v, c)) continue;
      if (!one_of) return true;
      if (++matched > 1 && !c.out) return false;
    }
    if (matched == 1) return true;
    std::string why = c.out && matched == 0 ? closest(v, c, one_of ? "oneOf" : "anyOf") : "";
    std::string msg = one_of
                          ? "must match exactly one schema in oneOf (matched " + std::to_string(matched) +
                                (why.empty() ? "" : "; " + why) + ")"
                          : "must match at least one schema in anyOf" + (why.empty() ? "" : " (" + why + ")");
    return c.fail(msg);
  }

  // Explains a failure by the branch that came closest ("closest anyOf/1: /a: expected string, got number"),
  // preferring branches that accept the instance's type and fail only deeper inside it; when every branch
  // only rejects the type, "expected string or integer, got boolean".
  std::string closest(const json& v, Ctx& c, const char* name) const {
    auto type_error = [&c](const SchemaError& e) {
      return e.pointer == c.path && e.message.rfind("expected ", 0) == 0;
    };
    std::size_t best = 0, best_score = SIZE_MAX;
    std::vector<SchemaError> best_errors;
    std::string expected;
    bool only_types = true;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      auto errs = nodes[i]->errors(v, c);
      std::size_t score = 0;  // errors nested deeper mean the branch matched more of the instance's shape
      for (const auto& e : errs) score += type_error(e) ? 1000 : e.pointer == c.path ? 10 : 1;
      if (errs.size() == 1 && type_error(errs[0])) {
        const std::string& m = errs[0].message;
        expected += (expected.empty() ? "" : " or ") + m.substr(9, m.find(", got ") - 9);
      } else {
        only_types = false;
      }
      if (score < best_score) {
        best = i;
        best_score = score;
        best_errors = std::move(errs);
      }
    }
    if (only_types) return "expected " + expected + ", got " + type_name(v);
    if (best_errors.empty()) return "";
    std::string detail;
    for (std::size_t i = 0; i < best_errors.size() && i < 3; ++i) {
      const auto& e = best_errors[i];
      detail += (i ? ", " : "") + (e.pointer == c.path ? e.message : e.str());
    }
    if (best_errors.size() > 3) detail += ", ...";
    return "closest " + std::string(name) + "/" + std::to_string(best) + ": " + detail;
  }
};

struct NotKw : Keyword {
  const Node* node = nullptr;
  bool check(const json& v, Ctx& c) const override {
    return !node->matches(v, c) || c.fail("must not match the schema in \"not\"");
  }
};

struct IfKw : Keyword {
  const Node* if_node = nullptr;
  const Node* then_node = nullptr;
  const Node* else_node = nullptr;
  bool check(const json& v, Ctx& c) const override {
    const Node* branch = if_node->matches(v, c) ? then_node : else_node;
    return !branch || branch->check(v, c);
  }
};

struct RefKw : Keyword {
  const Node* target = nullptr;
  bool check(const json& v, Ctx& c) const override {
    if (c.depth > 512) return c.fail("$ref nesting deeper than 512 (instance too deep, or the schema loops)");
    ++c.depth;
    bool ok = target->check(v, c);
    --c.depth;
    return ok;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Compilation.

struct JsonSchema::Impl {
  json doc;
  std::vector<std::unique_ptr<Node>> nodes;
  const Node* root = nullptr;
};

namespace {

class Compiler {
 public:
  Compiler(const json& doc, std::vector<std::unique_ptr<Node>>& nodes) : doc_(doc), nodes_(nodes) {}

  const Node* compile_root() {
    resources_[""] = "";
    index(doc_, "", "");
    return compile(doc_, "", "");
  }

 private:
  // Keywords whose values are subschemas, maps of them, or arrays of them.
  static constexpr const char* kSchemaKeys[] = {"additionalProperties",
                                                "propertyNames",
                                                "items",
                                                "contains",
                                                "not",
                                                "if",
                                                "then",
                                                "else",
                                                "additionalItems",
                                                "unevaluatedItems",
                                                "unevaluatedProperties"};
  static constexpr const char* kMapKeys[] = {"properties", "patternProperties", "$defs", "definitions",
                                             "dependentSchemas"};
  static constexpr const char* kArrayKeys[] = {"allOf", "anyOf", "oneOf", "prefixItems", "items"};

  // Records embedded resources ($id), anchors and the base URI in effect at each schema location.
  void index(const json& s, const std::string& ptr, std::string base) {
    if (!s.is_object()) return;
    if (auto id = s.find("$id"); id != s.end() && id->is_string()) {
      base = Uri::parse(Uri::resolve(base, id->get<std::string>())).str(false);
      resources_.emplace(base, ptr);
    }
    for (const char* key : {"$anchor", "$dynamicAnchor"})
      if (auto a = s.find(key); a != s.end() && a->is_string())
        anchors_.emplace(base + "#" + a->get<std::string>(), ptr);
    bases_[ptr] = base;
    for (const char* key : kSchemaKeys)
      if (auto it = s.find(key); it != s.end()) index(*it, ptr + "/" + key, base);
    for (const char* key : kMapKeys)
      if (auto it = s.find(key); it != s.end() && it->is_object())
        for (auto e = it->begin(); e != it->end(); ++e)
          index(e.value(), ptr + "/" + pointer_token(key) + "/" + pointer_token(e.key()), base);
    for (const char* key : kArrayKeys)
      if (auto it = s.find(key); it != s.end() && it->is_array())
        for (std::size_t i = 0; i < it->size(); ++i)
          index((*it)[i], ptr + "/" + key + "/" + std::to_string(i), base);
  }

  const Node* compile(const json& s, const std::string& ptr, const std::string& outer_base) {
    if (auto it = memo_.find(ptr); it != memo_.end()) return it->second;
    nodes_.push_back(std::make_unique<Node>());
    Node* node = nodes_.back().get();
    memo_[ptr] = node;
    if (s.is_boolean()) {
      node->boolean = s.get<bool>();
      return node;
    }
    if (!s.is_object())
      bad_schema(ptr, std::string("a schema must be an object or boolean, got ") + type_name(s));

    std::string base;
    if (auto known = bases_.find(ptr); known != bases_.end()) {
      base = known->second;
    } else {
      base = outer_base;
      if (auto id = s.find("$id"); id != s.end() && id->is_string())
        base = Uri::parse(Uri::resolve(base, id->get<std::string>())).str(false);
    }
    Scope sc{*this, s, ptr, base};
    auto add = [node](auto kw) -> auto& {  // appends a keyword check, returns it for filling in
      auto& ref = *kw;
      node->keywords.push_back(std::move(kw));
      return ref;
    };

    for (const char* key : {"$ref", "$dynamicRef"}) {  // $dynamicRef: resolved statically, like $ref
      if (const json* ref = sc.get(key)) {
        if (!ref->is_string()) bad_schema(ptr + "/" + pointer_token(key), "must be a string");
        add(std::make_unique<RefKw>()).target = resolve_ref(ref->get<std::string>(), base, sc.at(key));
      }
    }
    if (const json* t = sc.get("type")) add(compile_type(*t, ptr + "/type"));
    if (const json* e = sc.get("enum")) {
      if (!e->is_array()) bad_schema(ptr + "/enum", "must be an array");
      add(std::make_unique<EnumKw>()).values = *e;
    }
    if (const json* e = sc.get("const")) add(std::make_unique<ConstKw>()).value = *e;
    const std::pair<const char*, LimitKw::Op> limits[] = {{"minimum", LimitKw::kGe},
                                                          {"exclusiveMinimum", LimitKw::kGt},
                                                          {"maximum", LimitKw::kLe},
                                                          {"exclusiveMaximum", LimitKw::kLt}};
    for (const auto& [key, op] : limits)
      if (sc.get(key)) add(std::make_unique<LimitKw>(op, sc.number(key)));
    if (const json* m = sc.get("multipleOf")) {
      if (!m->is_number() || num(*m) <= 0) bad_schema(ptr + "/multipleOf", "must be a number greater than 0");
      add(std::make_unique<MultipleOfKw>()).divisor = *m;
    }
    const std::tuple<const char*, json::value_t, bool> sizes[] = {
        {"minLength", json::value_t::string, true},     {"maxLength", json::value_t::string, false},
        {"minItems", json::value_t::array, true},       {"maxItems", json::value_t::array, false},
        {"minProperties", json::value_t::object, true}, {"maxProperties", json::value_t::object, false}};
    for (const auto& [key, applies, is_min] : sizes)
      if (sc.get(key)) add(std::make_unique<SizeKw>(applies, is_min, sc.count(key)));
    if (const json* p = sc.get("pattern")) {
      if (!p->is_string()) bad_schema(ptr + "/pattern", "must be a string");
      add(std::make_unique<PatternKw>()).regex =
          std::make_unique<Regex>(p->get<std::string>(), ptr + "/pattern");
    }
    if (const json* u = sc.get("uniqueItems")) {
      if (!u->is_boolean()) bad_schema(ptr + "/uniqueItems", "must be a boolean");
      if (u->get<bool>()) add(std::make_unique<UniqueKw>());
    }
    if (const json* r = sc.get("required"))
      add(std::make_unique<RequiredKw>()).names = sc.strings(*r, ptr + "/required");
    if (const json* d = sc.get("dependentRequired")) {
      if (!d->is_object()) bad_schema(ptr + "/dependentRequired", "must be an object");
      auto& kw = add(std::make_unique<DependentRequiredKw>());
      for (auto it = d->begin(); it != d->end(); ++it)
        kw.deps.emplace_back(it.key(),
                             sc.strings(it.value(), ptr + "/dependentRequired/" + pointer_token(it.key())));
    }
    if (sc.get("dependentSchemas"))
      add(std::make_unique<DependentSchemasKw>()).deps = sc.schema_map("dependentSchemas");
    if (sc.get("properties") || sc.get("patternProperties") || sc.get("additionalProperties")) {
      auto& kw = add(std::make_unique<PropertiesKw>());
      if (sc.get("properties"))
        for (auto& [name, sub] : sc.schema_map("properties")) kw.properties.emplace(name, sub);
      if (sc.get("patternProperties"))
        for (auto& [pattern, sub] : sc.schema_map("patternProperties"))
          kw.patterns.emplace_back(
              std::make_unique<Regex>(pattern, ptr + "/patternProperties/" + pointer_token(pattern)), sub);
      kw.additional = sc.schema("additionalProperties");
    }
    if (const Node* names = sc.schema("propertyNames"))
      add(std::make_unique<PropertyNamesKw>()).names = names;
    if (sc.get("prefixItems") || sc.get("items")) {
      auto& kw = add(std::make_unique<ItemsKw>());
      const json* items = sc.get("items");
      if (items && items->is_array() && !sc.get("prefixItems")) {  // draft-07 tuple form
        kw.prefix = sc.schema_array("items");
        kw.rest = sc.schema("additionalItems");
      } else {
        if (sc.get("prefixItems")) kw.prefix = sc.schema_array("prefixItems");
        kw.rest = sc.schema("items");
      }
    }
    if (const Node* contains = sc.schema("contains")) {
      auto& kw = add(std::make_unique<ContainsKw>());
      kw.node = contains;
      if (sc.get("minContains")) kw.min = sc.count("minContains");
      if (sc.get("maxContains")) kw.max = sc.count("maxContains");
    }
    if (sc.get("allOf")) add(std::make_unique<AllOfKw>()).nodes = sc.schema_array("allOf");
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!sc.get(key)) continue;
      auto& kw = add(std::make_unique<ChoiceKw>());
      kw.one_of = key[0] == 'o';
      kw.nodes = sc.schema_array(key);
    }
    if (const Node* n = sc.schema("not")) add(std::make_unique<NotKw>()).node = n;
    const Node* then_node = sc.schema("then");
    const Node* else_node = sc.schema("else");
    if (const Node* if_node = sc.schema("if"); if_node && (then_node || else_node)) {
      auto& kw = add(std::make_unique<IfKw>());
      kw.if_node = if_node;
      kw.then_node = then_node;
      kw.else_node = else_node;
    }
    for (const char* key : {"$defs", "definitions"})  // not applied; compiled to report malformed definitions
      if (sc.get(key)) sc.schema_map(key);
    return node;
  }

  // Reads and checks keyword values of one schema object.
  struct Scope {
    Compiler& comp;
    const json& s;
    const std::string& ptr;
    const std::string& base;

    const json* get(const char* key) const {
      auto it = s.find(key);
      return it == s.end() ? nullptr : &*it;
    }
    std::string at(const std::string& key) const { return ptr + "/" + pointer_token(key); }
    json number(const char* key) const {
      const json& v = *get(key);
      if (!v.is_number()) bad_schema(at(key), std::string("must be a number, got ") + type_name(v));
      return v;
    }
    std::size_t count(const char* key) const {
      const json& v = *get(key);
      if (!is_integral(v) || num(v) < 0)
        bad_schema(at(key), "must be a non-negative integer, got " + short_dump(v));
      long double n = num(v);
      return n >= static_cast<long double>(SIZE_MAX) ? SIZE_MAX : static_cast<std::size_t>(n);
    }
    std::vector<std::string> strings(const json& v, const std::string& where) const {
      if (!v.is_array()) bad_schema(where, std::string("must be an array of strings, got ") + type_name(v));
      std::vector<std::string> out;
      for (const auto& e : v) {
        if (!e.is_string()) bad_schema(where, "must be an array of strings, found " + short_dump(e));
        out.push_back(e.get<std::string>());
      }
      return out;
    }
    const Node* schema(const char* key) const {
      const json* v = get(key);
      return v ? comp.compile(*v, at(key), base) : nullptr;
    }
    std::vector<const Node*> schema_array(const char* key) const {
      const json& v = *get(key);
      if (!v.is_array() || v.empty()) bad_schema(at(key), "must be a non-empty array of schemas");
      std::vector<const Node*> out;
      for (std::size_t i = 0; i < v.size(); ++i)
        out.push_back(comp.compile(v[i], at(key) + "/" + std::to_string(i), base));
      return out;
    }
    std::vector<std::pair<std::string, const Node*>> schema_map(const char* key) const {
      const json& v = *get(key);
      if (!v.is_object())
        bad_schema(at(key), std::string("must be an object of schemas, got ") + type_name(v));
      std::vector<std::pair<std::string, const Node*>> out;
      for (auto it = v.begin(); it != v.end(); ++it)
        out.emplace_back(it.key(), comp.compile(it.value(), at(key) + "/" + pointer_token(it.key()), base));
      return out;
    }
  };

  std::unique_ptr<Keyword> compile_type(const json& t, const std::string& where) {
    static const std::map<std::string, unsigned> kNames = {
        {"null", kNull},     {"boolean", kBoolean}, {"object", kObject},  {"array", kArray},
        {"number", kNumber}, {"string", kString},   {"integer", kInteger}};
    auto kw = std::make_unique<TypeKw>();
    std::vector<std::string> names;
    if (t.is_string())
      names.push_back(t.get<std::string>());
    else if (t.is_array() && !t.empty())
      for (const auto& e : t) names.push_back(e.is_string() ? e.get<std::string>() : "");
    else
      bad_schema(where, "must be a type name or a non-empty array of type names, got " + short_dump(t));
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto it = kNames.find(names[i]);
      if (it == kNames.end()) bad_schema(where, "unknown type " + short_dump(t.is_array() ? t[i] : t));
      kw->mask |= it->second;
      kw->expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    }
    return kw;
  }

  const Node* resolve_ref(const std::string& ref, const std::string& base, const std::string& where) {
    Uri target = Uri::parse(Uri::resolve(base, ref));
    std::string resource = target.str(false);
    auto res = resources_.find(resource);
    if (res == resources_.end())
      bad_schema(where,
                 "unresolvable $ref \"" + ref + "\" (only references within this schema are supported)");
    std::string fragment = percent_decode(target.fragment);
    std::string ptr = res->second;
    if (!fragment.empty() && fragment[0] != '/') {
      auto anchor = anchors_.find(resource + "#" + fragment);
      if (anchor == anchors_.end())
        bad_schema(where, "unresolvable $ref \"" + ref + "\": no anchor \"" + fragment + "\"");
      ptr = anchor->second;
      fragment.clear();
    }
    // Walk the JSON pointer from the resource root, re-encoding tokens so the memo key is canonical.
    const json* node = &doc_;
    std::string canonical;
    for (std::string p = ptr + fragment; !p.empty();) {
      std::size_t next = p.find('/', 1);
      std::string token = p.substr(1, next == std::string::npos ? std::string::npos : next - 1);
      p = next == std::string::npos ? "" : p.substr(next);
      std::string key;
      for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1'))
          key += token[++i] == '0' ? '~' : '/';
        else
          key += token[i];
      }
      if (node->is_object() && node->contains(key)) {
        node = &(*node)[key];
      } else if (node->is_array() && !key.empty() && key.size() < 10 &&
                 key.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoull(key) < node->size()) {
        node = &(*node)[std::stoull(key)];
      } else {
        bad_schema(where, "unresolvable $ref \"" + ref + "\": no schema at that location");
      }
      canonical += "/" + pointer_token(key);
    }
    return compile(*node, canonical, resource);
  }

  const json& doc_;
  std::vector<std::unique_ptr<Node>>& nodes_;
  std::map<std::string, std::string> resources_;  // absolute URI without fragment -> document pointer
  std::map<std::string, std::string> anchors_;    // "uri#anchor" -> document pointer
  std::map<std::string, std::string> bases_;      // document pointer -> base URI in effect there
  std::map<std::string, const Node*> memo_;       // document pointer -> compiled node
};

}  // namespace

JsonSchema::JsonSchema(const nlohmann::json& schema) : impl_(std::make_unique<Impl>()) {
  impl_->doc = schema;
  impl_->root = Compiler(impl_->doc, impl_->nodes).compile_root();
}
JsonSchema::~JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema& JsonSchema::operator=(JsonSchema&&) noexcept = default;

std::vector<SchemaError> JsonSchema::validate(const nlohmann::json& instance) const {
  std::vector<SchemaError> errors;
  Ctx c;
  c.out = &errors;
  impl_->root->check(instance, c);
  return errors;
}

bool JsonSchema::is_valid(const nlohmann::json& instance) const {
  Ctx c;
  return impl_->root->check(instance, c);
}

const nlohmann::json& JsonSchema::document() const {
  return impl_->doc;
}

std::string SchemaError::str() const {
  return (pointer.empty() ? "(root)" : pointer) + ": " + message;
}

std::string join_errors(const std::vector<SchemaError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.str();
  return out;
}

}  // namespace chorus::tools
