// Jinja operators with Python semantics: int/float promotion, floored division and modulo, sequence
// repetition, membership and iteration rules, printf-style formatting.
#include "inference/jinja-operators.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "inference/jinja-error.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {
namespace {

[[noreturn]] void unsupported(const char* op, const Value& a, const Value& b) {
  throw OperationError(std::string("unsupported operand type(s) for ") + op + ": '" + a.type_name() +
                       "' and '" + b.type_name() + "'");
}

void check_defined(const Value& a, const Value& b) {
  fail_if_undefined(a);
  fail_if_undefined(b);
}

bool both_int(const Value& a, const Value& b) {
  return (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
}

Value repeat(const Value& seq, int64_t times) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t k = 0; k < times; ++k) out += seq.as_string();
    return Value(std::move(out));
  }
  std::vector<Value> items;
  for (int64_t k = 0; k < times; ++k) {
    for (const auto& v : seq.as_list().items) items.push_back(v);
  }
  return seq.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
}

int64_t floor_div_int(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

void fail_if_undefined(const Value& v) {
  if (!v.is_undefined()) return;
  throw OperationError(v.undefined_hint().empty() ? "undefined value" : v.undefined_hint());
}

Value add(const Value& a, const Value& b) {
  check_defined(a, b);
  int64_t r = 0;
  if (both_int(a, b) && !__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
  if (a.is_numeric() && b.is_numeric()) return Value(a.as_double() + b.as_double());
  if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    std::vector<Value> items = a.as_list().items;
    for (const auto& v : b.as_list().items) items.push_back(v);
    return a.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
  }
  if (a.is_string()) throw OperationError("can only concatenate str (not \"" + b.type_name() + "\") to str");
  if (a.is_list() && !a.is_tuple()) {
    throw OperationError("can only concatenate list (not \"" + b.type_name() + "\") to list");
  }
  unsupported("+", a, b);
}

Value subtract(const Value& a, const Value& b) {
  check_defined(a, b);
  int64_t r = 0;
  if (both_int(a, b) && !__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
  if (a.is_numeric() && b.is_numeric()) return Value(a.as_double() - b.as_double());
  unsupported("-", a, b);
}

Value multiply(const Value& a, const Value& b) {
  check_defined(a, b);
  int64_t r = 0;
  if (both_int(a, b) && !__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return Value(r);
  if (a.is_numeric() && b.is_numeric()) return Value(a.as_double() * b.as_double());
  if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
  if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
  unsupported("*", a, b);
}

Value divide(const Value& a, const Value& b) {
  check_defined(a, b);
  if (!a.is_numeric() || !b.is_numeric()) unsupported("/", a, b);
  if (b.as_double() == 0) throw OperationError("division by zero");
  return Value(a.as_double() / b.as_double());
}

Value floor_divide(const Value& a, const Value& b) {
  check_defined(a, b);
  if (!a.is_numeric() || !b.is_numeric()) unsupported("//", a, b);
  if (b.as_double() == 0) throw OperationError("integer division or modulo by zero");
  if (both_int(a, b)) return Value(floor_div_int(a.as_int(), b.as_int()));
  return Value(std::floor(a.as_double() / b.as_double()));
}

Value modulo(const Value& a, const Value& b) {
  check_defined(a, b);
  if (a.is_string()) return Value(percent_format(a.as_string(), b));
  if (!a.is_numeric() || !b.is_numeric()) unsupported("%", a, b);
  if (b.as_double() == 0) throw OperationError("integer division or modulo by zero");
  if (both_int(a, b)) {
    const int64_t x = a.as_int(), y = b.as_int();
    return Value(x - floor_div_int(x, y) * y);
  }
  const double x = a.as_double(), y = b.as_double();
  double r = std::fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return Value(r);
}

Value power(const Value& a, const Value& b) {
  check_defined(a, b);
  if (!a.is_numeric() || !b.is_numeric()) unsupported("** or pow()", a, b);
  if (both_int(a, b) && b.as_int() >= 0) {
    // Exact while it fits in 64 bits (Python ints are unbounded; past that we fall back to float).
    int64_t result = 1;
    bool overflow = false;
    for (int64_t e = 0; e < b.as_int() && !overflow; ++e) {
      overflow = __builtin_mul_overflow(result, a.as_int(), &result);
      if (result == 0 || result == 1) break;
    }
    if (a.as_int() == -1) return Value(b.as_int() % 2 == 0 ? int64_t{1} : int64_t{-1});
    if (!overflow) return Value(result);
  }
  return Value(std::pow(a.as_double(), b.as_double()));
}

Value negate(const Value& a) {
  fail_if_undefined(a);
  if (a.is_int() || a.is_bool()) return Value(-a.as_int());
  if (a.is_float()) return Value(-a.as_double());
  throw OperationError("bad operand type for unary -: '" + a.type_name() + "'");
}

Value concat(const Value& a, const Value& b) {
  return Value(a.str() + b.str());
}

bool contains(const Value& container, const Value& item) {
  if (container.is_undefined()) return false;
  if (container.is_string()) {
    if (!item.is_string()) {
      throw OperationError("'in <string>' requires string as left operand, not " + item.type_name());
    }
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_list()) {
    for (const auto& v : container.as_list().items) {
      if (v == item) return true;
    }
    return false;
  }
  if (container.is_dict()) return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
  throw OperationError("argument of type '" + container.type_name() + "' is not iterable");
}

std::vector<Value> iterate(const Value& v) {
  if (v.is_undefined()) return {};
  if (v.is_list()) return v.as_list().items;
  if (v.is_dict()) {
    std::vector<Value> keys;
    for (const auto& [k, _] : v.as_dict().entries()) keys.emplace_back(k);
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> chars;
    for (auto& c : utf8_chars(v.as_string())) chars.emplace_back(std::move(c));
    return chars;
  }
  throw OperationError("'" + v.type_name() + "' object is not iterable");
}

std::string percent_format(const std::string& format, const Value& args) {
  std::vector<Value> positional;
  const Value* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.as_list().items;
  } else if (args.is_dict()) {
    mapping = &args;
    positional.push_back(args);
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  auto take = [&]() -> const Value& {
    if (next >= positional.size()) throw OperationError("not enough arguments for format string");
    return positional[next++];
  };
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    if (++i >= format.size()) throw OperationError("incomplete format");
    const Value* keyed = nullptr;
    if (format[i] == '(') {
      const size_t close = format.find(')', i);
      if (close == std::string::npos || !mapping) throw OperationError("format requires a mapping");
      const Value* found = mapping->as_dict().find(format.substr(i + 1, close - i - 1));
      if (!found) throw OperationError("KeyError: '" + format.substr(i + 1, close - i - 1) + "'");
      keyed = found;
      i = close + 1;
    }
    std::string spec = "%";
    while (i < format.size() && std::string("-+ #0").find(format[i]) != std::string::npos)
      spec += format[i++];
    while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) spec += format[i++];
    if (i < format.size() && format[i] == '.') {
      spec += format[i++];
      while (i < format.size() && std::isdigit(static_cast<unsigned char>(format[i]))) spec += format[i++];
    }
    if (i >= format.size()) throw OperationError("incomplete format");
    const char type = format[i];
    if (type == '%') {
      out += '%';
      continue;
    }
    const Value& v = keyed ? *keyed : take();
    char buf[512];
    switch (type) {
      case 's':
      case 'r': {
        std::string s = type == 's' ? v.str() : v.repr();
        const bool left = spec.find('-') != std::string::npos;
        const size_t dot = spec.find('.');
        if (dot != std::string::npos) {
          const auto chars = utf8_chars(s);
          const size_t keep = static_cast<size_t>(std::atoi(spec.c_str() + dot + 1));
          if (keep < chars.size()) {
            s.clear();
            for (size_t k = 0; k < keep; ++k) s += chars[k];
          }
        }
        size_t digits_at = spec.find_first_of("123456789");
        const size_t width = (digits_at != std::string::npos && (dot == std::string::npos || digits_at < dot))
                                 ? static_cast<size_t>(std::atoi(spec.c_str() + digits_at))
                                 : 0;
        const size_t len = utf8_length(s);
        const std::string pad = width > len ? std::string(width - len, ' ') : "";
        out += left ? s + pad : pad + s;
        break;
      }
      case 'd':
      case 'i':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        if (!v.is_numeric())
          throw OperationError(std::string("%") + type + " format: a real number is required, not " +
                               v.type_name());
        const long long n = v.is_float() ? static_cast<long long>(v.as_double()) : v.as_int();
        if (type == 'c') {
          out += utf8_encode(static_cast<char32_t>(n));
          break;
        }
        const char t = type == 'i' ? 'd' : type;
        std::snprintf(buf, sizeof buf, (spec + "ll" + t).c_str(), n);
        out += buf;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!v.is_numeric())
          throw OperationError(std::string("%") + type + " format: a real number is required, not " +
                               v.type_name());
        std::snprintf(buf, sizeof buf, (spec + type).c_str(), v.as_double());
        out += buf;
        break;
      }
      default:
        throw OperationError(std::string("unsupported format character '") + type + "'");
    }
  }
  if (!mapping && next < positional.size())
    throw OperationError("not all arguments converted during string formatting");
  return out;
}

}  // namespace chorus::inference::jinja
