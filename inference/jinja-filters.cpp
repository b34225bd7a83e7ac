// The Jinja filter and test tables (Jinja2 3.1 semantics; sort/unique/dictsort compare strings
// case-insensitively by default, round is Python's round-half-even, tojson is json.dumps).
#include "inference/jinja-filters.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include "inference/jinja-arguments.h"
#include "inference/jinja-error.h"
#include "inference/jinja-json.h"
#include "inference/jinja-methods.h"
#include "inference/jinja-operators.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(python_lower(v.as_string()));
  return v;
}

// The value to sort/compare by: the item, or its attributes (comma-separated paths make a tuple).
Value key_of(const Value& item, const std::optional<std::string>& attribute, bool case_sensitive) {
  if (!attribute) return sort_key(item, case_sensitive);
  if (attribute->find(',') == std::string::npos)
    return sort_key(lookup_path(item, *attribute), case_sensitive);
  std::vector<Value> parts;
  for (const auto& p : python_split(*attribute, std::string(","), -1)) {
    parts.push_back(sort_key(lookup_path(item, python_strip(p, std::nullopt, true, true)), case_sensitive));
  }
  return Value::tuple(std::move(parts));
}

std::optional<std::string> optional_string(const Params& p, size_t i, const std::string& what) {
  if (!p.has(i)) return std::nullopt;
  Value v = p.get(i);
  if (v.is_int()) return std::to_string(v.as_int());
  return string_arg(v, what);
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::optional<int64_t> parse_python_int(const std::string& text, int base) {
  std::string s = python_strip(text, std::nullopt, true, true);
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.erase(0, 1);
  }
  if (s.size() > 2 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) s.erase(0, 2);
  }
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size()) continue;
    digits += s[i];
  }
  if (digits.empty()) return std::nullopt;
  int64_t v = 0;
  auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (res.ec != std::errc() || res.ptr != digits.data() + digits.size()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<double> parse_python_float(const std::string& text) {
  std::string s = python_strip(text, std::nullopt, true, true);
  std::string clean;
  for (char c : s) {
    if (c != '_') clean += c;
  }
  if (clean.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  return v;
}

// Python's round(x, ndigits): correctly rounded, ties to even.
double python_round(double x, int64_t ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits >= 0) {
    if (ndigits > 300) return x;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(ndigits), x);
    return std::strtod(buf, nullptr);
  }
  const double scale = std::pow(10.0, static_cast<double>(-ndigits));
  return std::nearbyint(x / scale) * scale;
}

// Python's str.format field "spec" ([[fill]align][sign][0][width][,][.precision][type]).
// A character of a \\w+ word (letters, digits, underscore; non-ASCII letters approximated).
bool is_word_char(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (c >= 0xC0 && c != 0xD7 && c != 0xF7 && !is_python_space(c));
}

// ---- filters --------------------------------------------------------------------------------------------

Value filter_abs(const Value& v, const Arguments& a) {
  no_arguments(a, "abs");
  if (v.is_int() || v.is_bool()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
  if (v.is_float()) return Value(std::fabs(v.as_double()));
  throw OperationError("bad operand type for abs(): '" + v.type_name() + "'");
}

Value filter_attr(const Value& v, const Arguments& a) {
  Params p(a, {"name"}, "attr");
  return get_attribute(v, string_arg(p.required(0, "attr", "name"), "attr"));
}

Value filter_batch(const Value& v, const Arguments& a) {
  Params p(a, {"linecount", "fill_with"}, "batch");
  const int64_t size = int_arg(p.required(0, "batch", "linecount"), "batch");
  if (size <= 0) throw OperationError("batch: linecount must be positive");
  std::vector<Value> batches, current;
  for (auto& item : iterate(v)) {
    current.push_back(std::move(item));
    if (static_cast<int64_t>(current.size()) == size) {
      batches.push_back(Value::list(std::move(current)));
      current.clear();
    }
  }
  if (!current.empty()) {
    if (p.has(1)) {
      while (static_cast<int64_t>(current.size()) < size) current.push_back(p.get(1));
    }
    batches.push_back(Value::list(std::move(current)));
  }
  return Value::list(std::move(batches));
}

Value filter_capitalize(const Value& v, const Arguments& a) {
  no_arguments(a, "capitalize");
  return Value(python_capitalize(v.str()));
}

Value filter_center(const Value& v, const Arguments& a) {
  Params p(a, {"width"}, "center");
  return Value(python_center(v.str(), p.has(0) ? int_arg(p.get(0), "center") : 80, " "));
}

Value filter_default(const Value& v, const Arguments& a) {
  Params p(a, {"default_value", "boolean"}, "default");
  const bool boolean = p.get(1, Value(false)).truthy();
  if (v.is_undefined() || (boolean && !v.truthy())) return p.get(0, Value(""));
  return v;
}

Value filter_dictsort(const Value& v, const Arguments& a) {
  Params p(a, {"case_sensitive", "by", "reverse"}, "dictsort");
  if (!v.is_dict()) throw OperationError("dictsort: expected a mapping, got '" + v.type_name() + "'");
  const bool case_sensitive = p.get(0, Value(false)).truthy();
  const std::string by = p.has(1) ? string_arg(p.get(1), "dictsort") : "key";
  if (by != "key" && by != "value") throw OperationError("You can only sort by either \"key\" or \"value\"");
  const bool reverse = p.get(2, Value(false)).truthy();
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.as_dict().entries()) pairs.push_back(Value::tuple({Value(k), val}));
  const size_t index = by == "key" ? 0 : 1;
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& x, const Value& y) {
    const Value kx = sort_key(x.as_list().items[index], case_sensitive);
    const Value ky = sort_key(y.as_list().items[index], case_sensitive);
    return reverse ? less_than(ky, kx) : less_than(kx, ky);
  });
  return Value::list(std::move(pairs));
}

Value filter_escape(const Value& v, const Arguments& a) {
  no_arguments(a, "escape");
  return Value(html_escape(v.str()));
}

Value filter_first(const Value& v, const Arguments& a) {
  no_arguments(a, "first");
  if (v.is_string()) {
    const auto chars = utf8_chars(v.as_string());
    if (!chars.empty()) return Value(chars.front());
  } else {
    const auto items = iterate(v);
    if (!items.empty()) return items.front();
  }
  return Value::undefined("No first item, sequence was empty.");
}

Value filter_last(const Value& v, const Arguments& a) {
  no_arguments(a, "last");
  const auto items = iterate(v);
  if (!items.empty()) return items.back();
  return Value::undefined("No last item, sequence was empty.");
}

Value filter_float(const Value& v, const Arguments& a) {
  Params p(a, {"default"}, "float");
  const Value fallback = p.get(0, Value(0.0));
  if (v.is_numeric()) return Value(v.as_double());
  if (v.is_string()) {
    if (auto d = parse_python_float(v.as_string())) return Value(*d);
  }
  return fallback;
}

Value filter_format(const Value& v, const Arguments& a) {
  if (!a.positional.empty() && !a.keyword.empty()) {
    throw OperationError("can't handle positional and keyword arguments at the same time");
  }
  if (!a.keyword.empty()) {
    Dict d;
    for (const auto& [k, val] : a.keyword) d.set(k, val);
    return Value(percent_format(v.str(), Value::dict(std::move(d))));
  }
  return Value(percent_format(v.str(), Value::tuple(a.positional)));
}

Value filter_indent(const Value& v, const Arguments& a) {
  Params p(a, {"width", "first", "blank"}, "indent");
  const Value width = p.get(0, Value(4));
  const std::string indention =
      width.is_string()
          ? width.as_string()
          : std::string(static_cast<size_t>(std::max<int64_t>(0, int_arg(width, "indent"))), ' ');
  const bool first = p.get(1, Value(false)).truthy();
  const bool blank = p.get(2, Value(false)).truthy();
  std::string s = v.str() + "\n";
  const auto lines = python_splitlines(s);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : indention + lines[i]);
  }
  if (first) rv = indention + rv;
  return Value(rv);
}

Value filter_int(const Value& v, const Arguments& a) {
  Params p(a, {"default", "base"}, "int");
  const Value fallback = p.get(0, Value(0));
  const int base = p.has(1) ? static_cast<int>(int_arg(p.get(1), "int")) : 10;
  if (v.is_int() || v.is_bool()) return Value(v.as_int());
  if (v.is_float())
    return std::isfinite(v.as_double()) ? Value(static_cast<int64_t>(v.as_double())) : fallback;
  if (v.is_string()) {
    if (auto i = parse_python_int(v.as_string(), base)) return Value(*i);
    if (auto d = parse_python_float(v.as_string()); d && std::isfinite(*d))
      return Value(static_cast<int64_t>(*d));
  }
  return fallback;
}

Value filter_items(const Value& v, const Arguments& a) {
  no_arguments(a, "items");
  if (v.is_undefined()) return Value::list();
  if (!v.is_dict()) throw OperationError("Can only get item pairs from a mapping.");
  return call_method(v, "items", Arguments{});
}

Value filter_join(const Value& v, const Arguments& a) {
  Params p(a, {"d", "attribute"}, "join");
  const std::string sep = p.has(0) ? p.get(0).str() : "";
  const auto attribute = optional_string(p, 1, "join");
  std::string out;
  bool first = true;
  for (const auto& item : iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += (attribute ? lookup_path(item, *attribute) : item).str();
  }
  return Value(out);
}

Value filter_length(const Value& v, const Arguments& a) {
  no_arguments(a, "length");
  if (v.is_undefined()) return Value(0);
  if (v.is_string()) return Value(static_cast<int64_t>(utf8_length(v.as_string())));
  if (v.is_list()) return Value(static_cast<int64_t>(v.as_list().items.size()));
  if (v.is_dict()) return Value(static_cast<int64_t>(v.as_dict().size()));
  throw OperationError("object of type '" + v.type_name() + "' has no len()");
}

Value filter_list(const Value& v, const Arguments& a) {
  no_arguments(a, "list");
  return Value::list(iterate(v));
}

Value filter_lower(const Value& v, const Arguments& a) {
  no_arguments(a, "lower");
  return Value(python_lower(v.str()));
}

Value filter_upper(const Value& v, const Arguments& a) {
  no_arguments(a, "upper");
  return Value(python_upper(v.str()));
}

Value filter_map(const Value& v, const Arguments& a) {
  std::vector<Value> out;
  const Value* attribute = a.find_keyword("attribute");
  if (attribute) {
    if (!a.positional.empty()) throw OperationError("map: pass either a filter name or attribute=");
    const Value* fallback = a.find_keyword("default");
    for (const auto& [k, _] : a.keyword) {
      if (k != "attribute" && k != "default")
        throw OperationError("map() got an unexpected keyword argument '" + k + "'");
    }
    const std::string path =
        attribute->is_int() ? std::to_string(attribute->as_int()) : string_arg(*attribute, "map");
    for (const auto& item : iterate(v)) {
      Value got = lookup_path(item, path);
      if (got.is_undefined() && fallback) got = *fallback;
      out.push_back(std::move(got));
    }
    return Value::list(std::move(out));
  }
  if (a.positional.empty()) throw OperationError("map requires a filter name or attribute=");
  const std::string name = string_arg(a.positional[0], "map");
  FilterFunction f = find_filter(name);
  if (!f) throw OperationError("no filter named '" + name + "'");
  Arguments rest{std::vector<Value>(a.positional.begin() + 1, a.positional.end()), a.keyword};
  for (const auto& item : iterate(v)) out.push_back(f(item, rest));
  return Value::list(std::move(out));
}

Value min_max(const Value& v, const Arguments& a, bool want_max, const char* what) {
  Params p(a, {"case_sensitive", "attribute"}, what);
  const bool case_sensitive = p.get(0, Value(false)).truthy();
  const auto attribute = optional_string(p, 1, what);
  const auto items = iterate(v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = key_of(items[0], attribute, case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key_of(items[i], attribute, case_sensitive);
    if (want_max ? less_than(best_key, k) : less_than(k, best_key)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

Value filter_max(const Value& v, const Arguments& a) {
  return min_max(v, a, true, "max");
}
Value filter_min(const Value& v, const Arguments& a) {
  return min_max(v, a, false, "min");
}

Value filter_pprint(const Value& v, const Arguments& a) {
  no_arguments(a, "pprint");
  return Value(v.repr());
}

// select / reject / selectattr / rejectattr.
Value select_items(const Value& v, const Arguments& a, bool keep_when, bool by_attribute, const char* what) {
  size_t next = 0;
  std::optional<std::string> attribute;
  if (by_attribute) {
    if (a.positional.empty()) throw OperationError(std::string(what) + "() missing the attribute name");
    attribute = string_arg(a.positional[next++], what);
  }
  TestFunction test = nullptr;
  if (next < a.positional.size()) {
    const std::string name = string_arg(a.positional[next++], what);
    test = find_test(name);
    if (!test) throw OperationError("no test named '" + name + "'");
  }
  Arguments rest{std::vector<Value>(a.positional.begin() + static_cast<long>(next), a.positional.end()),
                 a.keyword};
  std::vector<Value> out;
  for (const auto& item : iterate(v)) {
    const Value subject = attribute ? lookup_path(item, *attribute) : item;
    const bool passed = test ? test(subject, rest) : subject.truthy();
    if (passed == keep_when) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_select(const Value& v, const Arguments& a) {
  return select_items(v, a, true, false, "select");
}
Value filter_reject(const Value& v, const Arguments& a) {
  return select_items(v, a, false, false, "reject");
}
Value filter_selectattr(const Value& v, const Arguments& a) {
  return select_items(v, a, true, true, "selectattr");
}
Value filter_rejectattr(const Value& v, const Arguments& a) {
  return select_items(v, a, false, true, "rejectattr");
}

Value filter_replace(const Value& v, const Arguments& a) {
  Params p(a, {"old", "new", "count"}, "replace");
  return Value(python_replace(v.str(), p.required(0, "replace", "old").str(),
                              p.required(1, "replace", "new").str(),
                              p.has(2) ? static_cast<long>(int_arg(p.get(2), "replace")) : -1));
}

Value filter_reverse(const Value& v, const Arguments& a) {
  no_arguments(a, "reverse");
  if (v.is_string()) {
    auto chars = utf8_chars(v.as_string());
    std::string out;
    for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
    return Value(out);
  }
  auto items = iterate(v);
  std::reverse(items.begin(), items.end());
  return Value::list(std::move(items));
}

Value filter_round(const Value& v, const Arguments& a) {
  Params p(a, {"precision", "method"}, "round");
  const int64_t precision = p.has(0) ? int_arg(p.get(0), "round") : 0;
  const std::string method = p.has(1) ? string_arg(p.get(1), "round") : "common";
  if (!v.is_numeric()) throw OperationError("round: expected a number, got '" + v.type_name() + "'");
  if (method == "common") {
    if (v.is_int() || v.is_bool()) return Value(v.as_int());
    return Value(python_round(v.as_double(), precision));
  }
  if (method != "floor" && method != "ceil") throw OperationError("method must be common, ceil or floor");
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.as_double() * scale;
  return Value((method == "floor" ? std::floor(x) : std::ceil(x)) / scale);
}

Value filter_safe(const Value& v, const Arguments& a) {
  no_arguments(a, "safe");
  return v;
}

Value filter_sort(const Value& v, const Arguments& a) {
  Params p(a, {"reverse", "case_sensitive", "attribute"}, "sort");
  const bool reverse = p.get(0, Value(false)).truthy();
  const bool case_sensitive = p.get(1, Value(false)).truthy();
  const auto attribute = optional_string(p, 2, "sort");
  auto items = iterate(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) keyed.emplace_back(key_of(item, attribute, case_sensitive), std::move(item));
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    return reverse ? less_than(y.first, x.first) : less_than(x.first, y.first);
  });
  std::vector<Value> out;
  for (auto& [_, item] : keyed) out.push_back(std::move(item));
  return Value::list(std::move(out));
}

Value filter_string(const Value& v, const Arguments& a) {
  no_arguments(a, "string");
  return Value(v.str());
}

Value filter_striptags(const Value& v, const Arguments& a) {
  no_arguments(a, "striptags");
  std::string s = v.str(), out;
  bool in_tag = false;
  for (char c : s) {
    if (c == '<') {
      in_tag = true;
    } else if (c == '>' && in_tag) {
      in_tag = false;
      out += ' ';
    } else if (!in_tag) {
      out += c;
    }
  }
  std::string joined;
  for (const auto& w : python_split(out, std::nullopt, -1)) joined += (joined.empty() ? "" : " ") + w;
  return Value(joined);
}

Value filter_sum(const Value& v, const Arguments& a) {
  Params p(a, {"attribute", "start"}, "sum");
  const auto attribute = optional_string(p, 0, "sum");
  Value total = p.get(1, Value(0));
  for (const auto& item : iterate(v)) total = add(total, attribute ? lookup_path(item, *attribute) : item);
  return total;
}

Value filter_title(const Value& v, const Arguments& a) {
  no_arguments(a, "title");
  // Jinja2: words start after whitespace, "-", "(", "{", "[" or "<"; the rest of each word is lowered.
  std::string out;
  bool start = true;
  for (const auto& ch : utf8_chars(v.str())) {
    const bool separator = ch == "-" || ch == "(" || ch == "{" || ch == "[" || ch == "<" ||
                           (ch.size() == 1 && is_python_space(static_cast<unsigned char>(ch[0])));
    if (separator) {
      out += ch;
      start = true;
    } else {
      out += start ? python_upper(ch) : python_lower(ch);
      start = false;
    }
  }
  return Value(out);
}

Value filter_tojson(const Value& v, const Arguments& a) {
  Params p(a, {"indent", "separators", "sort_keys", "ensure_ascii"}, "tojson");
  JsonDumpOptions o;
  if (p.has(0)) {
    const Value indent = p.get(0);
    o.indent = indent.is_string()
                   ? indent.as_string()
                   : std::string(static_cast<size_t>(std::max<int64_t>(0, int_arg(indent, "tojson"))), ' ');
    o.item_separator = ",";
  }
  if (p.has(1)) {
    const Value seps = p.get(1);
    if (!seps.is_list() || seps.as_list().items.size() != 2)
      throw OperationError("tojson: separators must be a pair of strings");
    o.item_separator = string_arg(seps.as_list().items[0], "tojson");
    o.key_separator = string_arg(seps.as_list().items[1], "tojson");
  }
  o.sort_keys = p.get(2, Value(false)).truthy();
  o.ensure_ascii = p.get(3, Value(false)).truthy();
  return Value(dump_json(v, o));
}

Value filter_trim(const Value& v, const Arguments& a) {
  Params p(a, {"chars"}, "trim");
  std::optional<std::string> chars;
  if (p.has(0)) chars = string_arg(p.get(0), "trim");
  return Value(python_strip(v.str(), chars, true, true));
}

Value filter_truncate(const Value& v, const Arguments& a) {
  Params p(a, {"length", "killwords", "end", "leeway"}, "truncate");
  const int64_t length = p.has(0) ? int_arg(p.get(0), "truncate") : 255;
  const bool killwords = p.get(1, Value(false)).truthy();
  const std::string end = p.has(2) ? string_arg(p.get(2), "truncate") : "...";
  const int64_t leeway = p.has(3) ? int_arg(p.get(3), "truncate") : 5;
  const auto chars = utf8_chars(v.str());
  const auto end_len = static_cast<int64_t>(utf8_length(end));
  if (static_cast<int64_t>(chars.size()) <= length + leeway) return Value(v.str());
  std::string head;
  for (int64_t k = 0; k < std::max<int64_t>(0, length - end_len); ++k) head += chars[static_cast<size_t>(k)];
  if (killwords) return Value(head + end);
  const size_t space = head.rfind(' ');
  if (space != std::string::npos) head.resize(space);
  return Value(head + end);
}

Value filter_unique(const Value& v, const Arguments& a) {
  Params p(a, {"case_sensitive", "attribute"}, "unique");
  const bool case_sensitive = p.get(0, Value(false)).truthy();
  const auto attribute = optional_string(p, 1, "unique");
  std::vector<Value> out, seen;
  for (const auto& item : iterate(v)) {
    Value k = key_of(item, attribute, case_sensitive);
    if (std::find(seen.begin(), seen.end(), k) != seen.end()) continue;
    seen.push_back(std::move(k));
    out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_wordcount(const Value& v, const Arguments& a) {
  no_arguments(a, "wordcount");
  int64_t count = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(v.str())) {
    const bool word = is_word_char(c) || c == '_';
    if (word && !in_word) ++count;
    in_word = word;
  }
  return Value(count);
}

const std::map<std::string, FilterFunction, std::less<>>& filters() {
  static const std::map<std::string, FilterFunction, std::less<>> table = {
      {"abs", filter_abs},
      {"attr", filter_attr},
      {"batch", filter_batch},
      {"capitalize", filter_capitalize},
      {"center", filter_center},
      {"count", filter_length},
      {"d", filter_default},
      {"default", filter_default},
      {"dictsort", filter_dictsort},
      {"e", filter_escape},
      {"escape", filter_escape},
      {"forceescape", filter_escape},
      {"first", filter_first},
      {"float", filter_float},
      {"format", filter_format},
      {"indent", filter_indent},
      {"int", filter_int},
      {"items", filter_items},
      {"join", filter_join},
      {"last", filter_last},
      {"length", filter_length},
      {"list", filter_list},
      {"lower", filter_lower},
      {"map", filter_map},
      {"max", filter_max},
      {"min", filter_min},
      {"pprint", filter_pprint},
      {"reject", filter_reject},
      {"rejectattr", filter_rejectattr},
      {"replace", filter_replace},
      {"reverse", filter_reverse},
      {"round", filter_round},
      {"safe", filter_safe},
      {"select", filter_select},
      {"selectattr", filter_selectattr},
      {"sort", filter_sort},
      {"string", filter_string},
      {"striptags", filter_striptags},
      {"sum", filter_sum},
      {"title", filter_title},
      {"tojson", filter_tojson},
      {"trim", filter_trim},
      {"truncate", filter_truncate},
      {"unique", filter_unique},
      {"upper", filter_upper},
      {"wordcount", filter_wordcount},
  };
  return table;
}

// ---- tests ----------------------------------------------------------------------------------------------

Value test_operand(const Arguments& a, const char* what) {
  Params p(a, {"other"}, what);
  return p.required(0, what, "other");
}

bool test_defined(const Value& v, const Arguments&) {
  return !v.is_undefined();
}
bool test_undefined(const Value& v, const Arguments&) {
  return v.is_undefined();
}
bool test_none(const Value& v, const Arguments&) {
  return v.is_none();
}
bool test_boolean(const Value& v, const Arguments&) {
  return v.is_bool();
}
bool test_true(const Value& v, const Arguments&) {
  return v.is_bool() && v.as_bool();
}
bool test_false(const Value& v, const Arguments&) {
  return v.is_bool() && !v.as_bool();
}
bool test_integer(const Value& v, const Arguments&) {
  return v.is_int();
}
bool test_float(const Value& v, const Arguments&) {
  return v.is_float();
}
bool test_number(const Value& v, const Arguments&) {
  return v.is_numeric();
}
bool test_string(const Value& v, const Arguments&) {
  return v.is_string();
}
bool test_mapping(const Value& v, const Arguments&) {
  return v.is_dict();
}
bool test_iterable(const Value& v, const Arguments&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool test_sequence(const Value& v, const Arguments&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}
bool test_callable(const Value& v, const Arguments&) {
  return v.is_function();
}
bool test_escaped(const Value&, const Arguments&) {
  return false;
}
bool test_lower(const Value& v, const Arguments&) {
  return v.is_string() && python_lower(v.as_string()) == v.as_string();
}
bool test_upper(const Value& v, const Arguments&) {
  return v.is_string() && python_upper(v.as_string()) == v.as_string();
}

bool test_even(const Value& v, const Arguments&) {
  fail_if_undefined(v);
  return modulo(v, Value(2)) == Value(0);
}
bool test_odd(const Value& v, const Arguments&) {
  fail_if_undefined(v);
  return modulo(v, Value(2)) == Value(1);
}
bool test_divisibleby(const Value& v, const Arguments& a) {
  return modulo(v, test_operand(a, "divisibleby")) == Value(0);
}
bool test_eq(const Value& v, const Arguments& a) {
  return v == test_operand(a, "eq");
}
bool test_ne(const Value& v, const Arguments& a) {
  return v != test_operand(a, "ne");
}
bool test_lt(const Value& v, const Arguments& a) {
  return less_than(v, test_operand(a, "lt"));
}
bool test_le(const Value& v, const Arguments& a) {
  const Value o = test_operand(a, "le");
  return v == o || less_than(v, o);
}
bool test_gt(const Value& v, const Arguments& a) {
  return less_than(test_operand(a, "gt"), v);
}
bool test_ge(const Value& v, const Arguments& a) {
  const Value o = test_operand(a, "ge");
  return v == o || less_than(o, v);
}
bool test_in(const Value& v, const Arguments& a) {
  return contains(test_operand(a, "in"), v);
}
bool test_sameas(const Value& v, const Arguments& a) {
  const Value o = test_operand(a, "sameas");
  if (v.storage().index() != o.storage().index()) return false;
  if (v.is_list()) return &v.as_list() == &o.as_list();
  if (v.is_dict()) return &v.as_dict() == &o.as_dict();
  if (v.is_float()) return false;
  return v == o;
}
bool test_filter(const Value& v, const Arguments&) {
  return v.is_string() && find_filter(v.as_string()) != nullptr;
}
bool test_test(const Value& v, const Arguments&) {
  return v.is_string() && find_test(v.as_string()) != nullptr;
}

const std::map<std::string, TestFunction, std::less<>>& tests() {
  static const std::map<std::string, TestFunction, std::less<>> table = {
      {"boolean", test_boolean},
      {"callable", test_callable},
      {"defined", test_defined},
      {"divisibleby", test_divisibleby},
      {"eq", test_eq},
      {"equalto", test_eq},
      {"==", test_eq},
      {"escaped", test_escaped},
      {"even", test_even},
      {"false", test_false},
      {"filter", test_filter},
      {"float", test_float},
      {"ge", test_ge},
      {">=", test_ge},
      {"gt", test_gt},
      {"greaterthan", test_gt},
      {">", test_gt},
      {"in", test_in},
      {"integer", test_integer},
      {"iterable", test_iterable},
      {"le", test_le},
      {"<=", test_le},
      {"lower", test_lower},
      {"lt", test_lt},
      {"lessthan", test_lt},
      {"<", test_lt},
      {"mapping", test_mapping},
      {"ne", test_ne},
      {"!=", test_ne},
      {"none", test_none},
      {"number", test_number},
      {"odd", test_odd},
      {"sameas", test_sameas},
      {"sequence", test_sequence},
      {"string", test_string},
      {"test", test_test},
      {"true", test_true},
      {"undefined", test_undefined},
      {"upper", test_upper},
  };
  return table;
}

}  // namespace

FilterFunction find_filter(std::string_view name) {
  auto it = filters().find(name);
  return it == filters().end() ? nullptr : it->second;
}

TestFunction find_test(std::string_view name) {
  auto it = tests().find(name);
  return it == tests().end() ? nullptr : it->second;
}

}  // namespace chorus::inference::jinja
