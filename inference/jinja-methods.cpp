// Python str/list/dict methods, Jinja's getattr/getitem rules, slicing and str.format.
#include "inference/jinja-methods.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "inference/jinja-arguments.h"
#include "inference/jinja-error.h"
#include "inference/jinja-operators.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

size_t code_point_index(const std::string& s, size_t byte_offset) {
  return utf8_length(std::string_view(s).substr(0, byte_offset));
}

std::string apply_format_spec(const Value& v, const std::string& spec) {
  if (spec.empty()) return v.str();
  size_t i = 0;
  char fill = ' ', align = 0, sign = '-';
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (spec.size() >= 2 && is_align(spec[1])) {
    fill = spec[0];
    align = spec[1];
    i = 2;
  } else if (!spec.empty() && is_align(spec[0])) {
    align = spec[0];
    i = 1;
  }
  if (i < spec.size() && (spec[i] == '+' || spec[i] == '-' || spec[i] == ' ')) sign = spec[i++];
  if (i < spec.size() && spec[i] == '0') {
    if (!align) {
      fill = '0';
      align = '=';
    }
    ++i;
  }
  size_t width = 0;
  while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])))
    width = width * 10 + (spec[i++] - '0');
  if (i < spec.size() && spec[i] == ',') ++i;
  int precision = -1;
  if (i < spec.size() && spec[i] == '.') {
    ++i;
    precision = 0;
    while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i])))
      precision = precision * 10 + (spec[i++] - '0');
  }
  char type = i < spec.size() ? spec[i] : 0;
  std::string body;
  const bool numeric = v.is_numeric();
  if (numeric && !v.is_bool()) {
    if (!type) type = v.is_int() ? 'd' : 'r';
    char buf[512];
    const double d = v.as_double();
    switch (type) {
      case 'd':
        std::snprintf(buf, sizeof buf, "%lld",
                      static_cast<long long>(v.is_int() ? v.as_int() : static_cast<int64_t>(d)));
        body = buf;
        break;
      case 'x':
      case 'X':
      case 'o': {
        const std::string f = std::string("%ll") + type;
        std::snprintf(buf, sizeof buf, f.c_str(), static_cast<long long>(v.as_int()));
        body = buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        const std::string f = std::string("%.*") + type;
        std::snprintf(buf, sizeof buf, f.c_str(), precision < 0 ? 6 : precision, d);
        body = buf;
        break;
      }
      case '%':
        std::snprintf(buf, sizeof buf, "%.*f%%", precision < 0 ? 6 : precision, d * 100);
        body = buf;
        break;
      default:
        body = precision >= 0 ? (std::snprintf(buf, sizeof buf, "%.*g", precision, d), std::string(buf))
                              : v.str();
    }
    if (sign != '-' && !body.empty() && body[0] != '-') body = std::string(1, sign) + body;
    if (!align) align = '>';
  } else {
    body = v.str();
    if (precision >= 0) {
      const auto chars = utf8_chars(body);
      if (static_cast<size_t>(precision) < chars.size()) {
        body.clear();
        for (int k = 0; k < precision; ++k) body += chars[static_cast<size_t>(k)];
      }
    }
    if (!align) align = '<';
  }
  const size_t len = utf8_length(body);
  if (len >= width) return body;
  const size_t pad = width - len;
  const std::string f(1, fill);
  auto repeat = [&](size_t n) {
    std::string r;
    for (size_t k = 0; k < n; ++k) r += f;
    return r;
  };
  switch (align) {
    case '<':
      return body + repeat(pad);
    case '^':
      return repeat(pad / 2) + body + repeat(pad - pad / 2);
    case '=':
      if (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' '))
        return body.substr(0, 1) + repeat(pad) + body.substr(1);
      return repeat(pad) + body;
    default:
      return repeat(pad) + body;
  }
}

// Python's str.format(*args, **kwargs).
std::string python_format(const std::string& format, const Arguments& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw OperationError("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) throw OperationError("Single '{' encountered in format string");
    std::string field = format.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conversion;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    if (auto bang = field.find('!'); bang != std::string::npos) {
      conversion = field.substr(bang + 1);
      field.resize(bang);
    }
    // field: "" | digits | name, then .attr / [key] parts
    size_t end = field.find_first_of(".[");
    const std::string head = field.substr(0, end);
    Value v;
    if (head.empty()) {
      if (auto_index >= args.positional.size())
        throw OperationError("Replacement index " + std::to_string(auto_index) + " out of range");
      v = args.positional[auto_index++];
    } else if (std::all_of(head.begin(), head.end(), [](char x) { return x >= '0' && x <= '9'; })) {
      const size_t k = std::stoul(head);
      if (k >= args.positional.size()) throw OperationError("Replacement index " + head + " out of range");
      v = args.positional[k];
    } else {
      const Value* kw = args.find_keyword(head);
      if (!kw) throw OperationError("KeyError: '" + head + "'");
      v = *kw;
    }
    while (end != std::string::npos && end < field.size()) {
      if (field[end] == '.') {
        size_t next = field.find_first_of(".[", end + 1);
        v = get_attribute(
            v, field.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1));
        end = next;
      } else {
        size_t rb = field.find(']', end);
        if (rb == std::string::npos) throw OperationError("Missing ']' in format string");
        std::string key = field.substr(end + 1, rb - end - 1);
        const bool numeric =
            !key.empty() && std::all_of(key.begin(), key.end(), [](char x) { return x >= '0' && x <= '9'; });
        v = numeric ? get_item(v, Value(static_cast<int64_t>(std::stoll(key)))) : get_item(v, Value(key));
        end = rb + 1;
      }
    }
    if (conversion == "r") v = Value(v.repr());
    if (conversion == "s") v = Value(v.str());
    out += apply_format_spec(v, spec);
  }
  return out;
}

bool all_chars(const std::string& s, bool (*pred)(char32_t)) {
  const auto cps = utf8_decode(s);
  return !cps.empty() && std::all_of(cps.begin(), cps.end(), pred);
}
bool cp_is_digit(char32_t c) {
  return c >= '0' && c <= '9';
}
bool cp_is_alpha(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= 0xC0 && c != 0xD7 && c != 0xF7 && !is_python_space(c));
}
bool cp_is_alnum(char32_t c) {
  return cp_is_digit(c) || cp_is_alpha(c);
}
bool cp_is_space(char32_t c) {
  return is_python_space(c);
}

// ---- Python methods -------------------------------------------------------------------------------------

Value string_method(const std::string& s, const std::string& name, const Arguments& a) {
  const std::string what = "str." + name;
  if (name == "startswith" || name == "endswith") {
    Params p(a, {"prefix", "start", "end"}, what);
    const Value prefix = p.required(0, what, "prefix");
    std::vector<std::string> options;
    if (prefix.is_list()) {
      for (const auto& v : prefix.as_list().items) options.push_back(string_arg(v, what));
    } else {
      options.push_back(string_arg(prefix, what));
    }
    for (const auto& o : options) {
      if (name == "startswith" ? s.compare(0, o.size(), o) == 0 && s.size() >= o.size()
                               : s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0) {
        return Value(true);
      }
    }
    return Value(false);
  }
  if (name == "split" || name == "rsplit") {
    Params p(a, {"sep", "maxsplit"}, what);
    std::optional<std::string> sep;
    if (p.has(0)) sep = string_arg(p.get(0), what);
    const long maxsplit = p.has(1) ? static_cast<long>(int_arg(p.get(1), what)) : -1;
    if (sep && sep->empty()) throw OperationError("empty separator");
    std::vector<Value> parts;
    for (auto& part : name == "split" ? python_split(s, sep, maxsplit) : python_rsplit(s, sep, maxsplit)) {
      parts.emplace_back(std::move(part));
    }
    return Value::list(std::move(parts));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    Params p(a, {"chars"}, what);
    std::optional<std::string> chars;
    if (p.has(0)) chars = string_arg(p.get(0), what);
    return Value(python_strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "replace") {
    Params p(a, {"old", "new", "count"}, what);
    return Value(python_replace(s, string_arg(p.required(0, what, "old"), what),
                                string_arg(p.required(1, what, "new"), what),
                                p.has(2) ? static_cast<long>(int_arg(p.get(2), what)) : -1));
  }
  if (name == "upper") return no_arguments(a, what), Value(python_upper(s));
  if (name == "lower") return no_arguments(a, what), Value(python_lower(s));
  if (name == "title") return no_arguments(a, what), Value(python_title(s));
  if (name == "capitalize") return no_arguments(a, what), Value(python_capitalize(s));
  if (name == "swapcase") {
    no_arguments(a, what);
    std::string out;
    for (const auto& ch : utf8_chars(s)) {
      const std::string up = python_upper(ch);
      out += up != ch ? up : python_lower(ch);
    }
    return Value(out);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    Params p(a, {"sub"}, what);
    const std::string sub = string_arg(p.required(0, what, "sub"), what);
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
      int64_t n = 0;
      for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
      return Value(n);
    }
    const size_t at = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
    if (at == std::string::npos) {
      if (name == "index" || name == "rindex") throw OperationError("substring not found");
      return Value(static_cast<int64_t>(-1));
    }
    return Value(static_cast<int64_t>(code_point_index(s, at)));
  }
  if (name == "join") {
    Params p(a, {"iterable"}, what);
    std::string out;
    bool first = true;
    for (const auto& v : iterate(p.required(0, what, "iterable"))) {
      if (!v.is_string())
        throw OperationError("sequence item: expected str instance, " + v.type_name() + " found");
      if (!first) out += s;
      first = false;
      out += v.as_string();
    }
    return Value(out);
  }
  if (name == "format") return Value(python_format(s, a));
  if (name == "splitlines") {
    Params p(a, {"keepends"}, what);
    std::vector<Value> lines;
    for (auto& l : python_splitlines(s, p.get(0, Value(false)).truthy())) lines.emplace_back(std::move(l));
    return Value::list(std::move(lines));
  }
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal")
    return no_arguments(a, what), Value(all_chars(s, cp_is_digit));
  if (name == "isalpha") return no_arguments(a, what), Value(all_chars(s, cp_is_alpha));
  if (name == "isalnum") return no_arguments(a, what), Value(all_chars(s, cp_is_alnum));
  if (name == "isspace") return no_arguments(a, what), Value(all_chars(s, cp_is_space));
  if (name == "islower" || name == "isupper") {
    no_arguments(a, what);
    const std::string lower = python_lower(s), upper = python_upper(s);
    const bool cased = lower != upper;
    return Value(cased && (name == "islower" ? s == lower : s == upper));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    Params p(a, {"width", "fillchar"}, what);
    const int64_t width = int_arg(p.required(0, what, "width"), what);
    const std::string fill = p.has(1) ? string_arg(p.get(1), what) : " ";
    if (name == "center") return Value(python_center(s, width, fill));
    const int64_t len = static_cast<int64_t>(utf8_length(s));
    std::string pad;
    for (int64_t k = len; k < width; ++k) pad += fill;
    return Value(name == "ljust" ? s + pad : pad + s);
  }
  if (name == "zfill") {
    Params p(a, {"width"}, what);
    const int64_t width = int_arg(p.required(0, what, "width"), what);
    const int64_t len = static_cast<int64_t>(utf8_length(s));
    if (len >= width) return Value(s);
    const std::string zeros(static_cast<size_t>(width - len), '0');
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) return Value(s.substr(0, 1) + zeros + s.substr(1));
    return Value(zeros + s);
  }
  if (name == "partition" || name == "rpartition") {
    Params p(a, {"sep"}, what);
    const std::string sep = string_arg(p.required(0, what, "sep"), what);
    const size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (at == std::string::npos) {
      return name == "partition" ? Value::tuple({Value(s), Value(""), Value("")})
                                 : Value::tuple({Value(""), Value(""), Value(s)});
    }
    return Value::tuple({Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))});
  }
  if (name == "removeprefix") {
    Params p(a, {"prefix"}, what);
    const std::string pre = string_arg(p.required(0, what, "prefix"), what);
    return Value(s.compare(0, pre.size(), pre) == 0 ? s.substr(pre.size()) : s);
  }
  if (name == "removesuffix") {
    Params p(a, {"suffix"}, what);
    const std::string suf = string_arg(p.required(0, what, "suffix"), what);
    return Value(!suf.empty() && s.size() >= suf.size() &&
                         s.compare(s.size() - suf.size(), suf.size(), suf) == 0
                     ? s.substr(0, s.size() - suf.size())
                     : s);
  }
  throw OperationError("'str' object has no attribute '" + name + "'");
}

const char* const kStringMethods[] = {
    "startswith",   "endswith",    "split",     "rsplit",  "strip",      "lstrip",    "rstrip",
    "replace",      "upper",       "lower",     "title",   "capitalize", "swapcase",  "find",
    "rfind",        "index",       "rindex",    "count",   "join",       "format",    "splitlines",
    "isdigit",      "isnumeric",   "isdecimal", "isalpha", "isalnum",    "isspace",   "islower",
    "isupper",      "center",      "ljust",     "rjust",   "zfill",      "partition", "rpartition",
    "removeprefix", "removesuffix"};
const char* const kListMethods[] = {"append", "extend", "insert",  "pop",   "remove", "index",
                                    "count",  "copy",   "reverse", "clear", "sort"};
const char* const kTupleMethods[] = {"index", "count"};
const char* const kDictMethods[] = {"items",  "keys", "values",     "get",  "pop",
                                    "update", "copy", "setdefault", "clear"};

template <size_t N>
bool listed(const char* const (&names)[N], const std::string& name) {
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
}

Value list_method(const Value& self, const std::string& name, const Arguments& a) {
  const std::string what = "list." + name;
  auto& items = self.as_list().items;
  auto normalize = [&](int64_t i, bool clamp) -> int64_t {
    const auto n = static_cast<int64_t>(items.size());
    if (i < 0) i += n;
    if (clamp) i = std::clamp<int64_t>(i, 0, n);
    return i;
  };
  if (name == "append") {
    Params p(a, {"object"}, what);
    items.push_back(p.required(0, what, "object"));
    return Value(nullptr);
  }
  if (name == "extend") {
    Params p(a, {"iterable"}, what);
    for (auto& v : iterate(p.required(0, what, "iterable"))) items.push_back(std::move(v));
    return Value(nullptr);
  }
  if (name == "insert") {
    Params p(a, {"index", "object"}, what);
    const int64_t i = normalize(int_arg(p.required(0, what, "index"), what), true);
    items.insert(items.begin() + i, p.required(1, what, "object"));
    return Value(nullptr);
  }
  if (name == "pop") {
    Params p(a, {"index"}, what);
    if (items.empty()) throw OperationError("pop from empty list");
    const int64_t i = normalize(p.has(0) ? int_arg(p.get(0), what) : -1, false);
    if (i < 0 || i >= static_cast<int64_t>(items.size())) throw OperationError("pop index out of range");
    Value v = items[static_cast<size_t>(i)];
    items.erase(items.begin() + i);
    return v;
  }
  if (name == "remove") {
    Params p(a, {"value"}, what);
    const Value target = p.required(0, what, "value");
    auto it = std::find(items.begin(), items.end(), target);
    if (it == items.end()) throw OperationError("list.remove(x): x not in list");
    items.erase(it);
    return Value(nullptr);
  }
  if (name == "index") {
    Params p(a, {"value"}, what);
    const Value target = p.required(0, what, "value");
    auto it = std::find(items.begin(), items.end(), target);
    if (it == items.end()) throw OperationError(target.repr() + " is not in list");
    return Value(static_cast<int64_t>(it - items.begin()));
  }
  if (name == "count") {
    Params p(a, {"value"}, what);
    const Value target = p.required(0, what, "value");
    return Value(static_cast<int64_t>(std::count(items.begin(), items.end(), target)));
  }
  if (name == "copy") return no_arguments(a, what), Value::list(items);
  if (name == "reverse")
    return no_arguments(a, what), std::reverse(items.begin(), items.end()), Value(nullptr);
  if (name == "clear") return no_arguments(a, what), items.clear(), Value(nullptr);
  if (name == "sort") {
    Params p(a, {"reverse"}, what);
    const bool reverse = p.get(0, Value(false)).truthy();
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      return reverse ? less_than(y, x) : less_than(x, y);
    });
    return Value(nullptr);
  }
  throw OperationError("'list' object has no attribute '" + name + "'");
}

Value dict_method(const Value& self, const std::string& name, const Arguments& a) {
  const std::string what = "dict." + name;
  Dict& d = self.as_dict();
  if (name == "items") {
    no_arguments(a, what);
    std::vector<Value> pairs;
    for (const auto& [k, v] : d.entries()) pairs.push_back(Value::tuple({Value(k), v}));
    return Value::list(std::move(pairs));
  }
  if (name == "keys") {
    no_arguments(a, what);
    std::vector<Value> keys;
    for (const auto& [k, _] : d.entries()) keys.emplace_back(k);
    return Value::list(std::move(keys));
  }
  if (name == "values") {
    no_arguments(a, what);
    std::vector<Value> values;
    for (const auto& [_, v] : d.entries()) values.push_back(v);
    return Value::list(std::move(values));
  }
  if (name == "get" || name == "setdefault") {
    Params p(a, {"key", "default"}, what);
    const Value key = p.required(0, what, "key");
    const Value fallback = p.get(1, Value(nullptr));
    if (key.is_string()) {
      if (const Value* v = d.find(key.as_string())) return *v;
      if (name == "setdefault") d.set(key.as_string(), fallback);
    }
    return fallback;
  }
  if (name == "pop") {
    Params p(a, {"key", "default"}, what);
    const Value key = p.required(0, what, "key");
    if (key.is_string()) {
      if (const Value* v = d.find(key.as_string())) {
        Value out = *v;
        d.erase(key.as_string());
        return out;
      }
    }
    if (p.get(1).is_undefined()) throw OperationError("KeyError: " + key.repr());
    return p.get(1);
  }
  if (name == "update") {
    if (a.positional.size() > 1) throw OperationError("update expected at most 1 argument");
    if (!a.positional.empty()) {
      const Value& other = a.positional[0];
      if (other.is_dict()) {
        for (const auto& [k, v] : other.as_dict().entries()) d.set(k, v);
      } else {
        for (const auto& pair : iterate(other)) {
          if (!pair.is_list() || pair.as_list().items.size() != 2 || !pair.as_list().items[0].is_string()) {
            throw OperationError("dictionary update sequence element must be a (str, value) pair");
          }
          d.set(pair.as_list().items[0].as_string(), pair.as_list().items[1]);
        }
      }
    }
    for (const auto& [k, v] : a.keyword) d.set(k, v);
    return Value(nullptr);
  }
  if (name == "copy") return no_arguments(a, what), Value::dict(d);
  if (name == "clear") return no_arguments(a, what), d = Dict(), Value(nullptr);
  throw OperationError("'dict' object has no attribute '" + name + "'");
}

// A callable bound to `self`, when `name` is one of its type's methods.
std::optional<Value> bound_method(const Value& self, const std::string& name) {
  if (self.is_string() && listed(kStringMethods, name)) {
    const std::string s = self.as_string();
    return Value::function("str." + name,
                           [s, name](const Arguments& a) { return string_method(s, name, a); });
  }
  if (self.is_list() && (self.is_tuple() ? listed(kTupleMethods, name) : listed(kListMethods, name))) {
    return Value::function("list." + name,
                           [self, name](const Arguments& a) { return list_method(self, name, a); });
  }
  if (self.is_dict() && listed(kDictMethods, name)) {
    return Value::function("dict." + name,
                           [self, name](const Arguments& a) { return dict_method(self, name, a); });
  }
  return std::nullopt;
}

std::string object_type_repr(const Value& v) {
  if (v.is_none()) return "None";
  return v.type_name() + " object";
}

}  // namespace

// Follows "a.b.0" with get_item (integers index), like Jinja2's make_attrgetter.
Value lookup_path(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric =
        !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = numeric ? get_item(cur, Value(static_cast<int64_t>(std::stoll(part)))) : get_item(cur, Value(part));
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value call_method(const Value& self, const std::string& name, const Arguments& args) {
  if (auto method = bound_method(self, name)) return method->as_function().call(args);
  throw OperationError("'" + self.type_name() + "' object has no attribute '" + name + "'");
}

Value get_attribute(const Value& object, const std::string& name) {
  fail_if_undefined(object);
  if (auto method = bound_method(object, name)) return *method;
  if (object.is_dict()) {
    if (const Value* v = object.as_dict().find(name)) return *v;
  } else if (object.is_namespace()) {
    if (const Value* v = object.as_namespace().attributes.find(name)) return *v;
  }
  return Value::undefined("'" + object_type_repr(object) + "' has no attribute '" + name + "'");
}

Value get_item(const Value& object, const Value& key) {
  fail_if_undefined(object);
  if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (object.is_list()) {
      const auto& items = object.as_list().items;
      const auto n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
    } else {
      const auto chars = utf8_chars(object.as_string());
      const auto n = static_cast<int64_t>(chars.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return Value(chars[static_cast<size_t>(i)]);
    }
    return Value::undefined("'" + object_type_repr(object) + "' has no element " + key.repr());
  }
  if (object.is_dict() && key.is_string()) {
    if (const Value* v = object.as_dict().find(key.as_string())) return *v;
  }
  if (key.is_string()) return get_attribute(object, key.as_string());
  return Value::undefined("'" + object_type_repr(object) + "' has no element " + key.repr());
}

Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step) {
  fail_if_undefined(object);
  auto index_or = [](const Value& v, std::optional<int64_t> fallback) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return fallback;
    return int_arg(v, "slice indices");
  };
  const int64_t st = index_or(step, 1).value();
  if (st == 0) throw OperationError("slice step cannot be zero");
  std::vector<Value> items;
  std::vector<std::string> chars;
  int64_t n = 0;
  if (object.is_string()) {
    chars = utf8_chars(object.as_string());
    n = static_cast<int64_t>(chars.size());
  } else if (object.is_list()) {
    n = static_cast<int64_t>(object.as_list().items.size());
  } else {
    throw OperationError("'" + object.type_name() + "' object is not subscriptable");
  }
  // Python's PySlice_AdjustIndices.
  auto adjust = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t x = *v;
    if (x < 0) {
      x += n;
      if (x < 0) x = st < 0 ? -1 : 0;
    } else if (x >= n) {
      x = st < 0 ? n - 1 : n;
    }
    return x;
  };
  const int64_t b = adjust(index_or(start, std::nullopt), st < 0 ? n - 1 : 0);
  const int64_t e = adjust(index_or(stop, std::nullopt), st < 0 ? -1 : n);
  std::string s;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    if (object.is_string()) {
      s += chars[static_cast<size_t>(i)];
    } else {
      items.push_back(object.as_list().items[static_cast<size_t>(i)]);
    }
  }
  if (object.is_string()) return Value(s);
  return object.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

}  // namespace chorus::inference::jinja
