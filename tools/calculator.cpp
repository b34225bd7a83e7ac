#include "tools/calculator.h"

#include "tools/text-util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <optional>
#include <vector>

namespace chorus::tools {
namespace {

using Int = std::int64_t;
constexpr double kTwo53 = 9007199254740992.0;  // 2^53: doubles up to here are exact integers
constexpr int kMaxDepth = 200;                 // nesting limit, so hostile input cannot exhaust the stack

[[noreturn]] void fail(std::string message) {
  throw CalculatorError(std::move(message));
}

std::string at(std::size_t pos) {
  return " at position " + std::to_string(pos);
}

[[noreturn]] void syntax_error(std::size_t pos, const std::string& what) {
  fail("syntax error" + at(pos) + ": " + what);
}

std::string double_text(double d) {
  if (d == std::trunc(d) && std::fabs(d) <= kTwo53) return std::to_string(static_cast<Int>(d));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::general, 15);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

// ---- lexer ----------------------------------------------------------------------------------------

struct Token {
  enum Kind { number, name, oper, lparen, rparen, comma, end } kind = end;
  char op = 0;          // '+', '-', '*', '/', '%', '^', '!' (Unicode spellings mapped to these)
  std::string text;     // as written
  CalcResult value;     // numbers only
  std::size_t pos = 0;  // 1-based character (not byte) position
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::number:
      return "number " + t.text;
    case Token::name:
      return "name '" + t.text + "'";
    case Token::end:
      return "end of expression";
    default:
      return "'" + t.text + "'";
  }
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Bytes in the UTF-8 sequence that starts with `lead` (1 for stray or invalid bytes).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

CalcResult parse_number(std::string_view s, std::size_t pos) {
  const bool integer = s.find_first_of(".eE") == std::string_view::npos;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (integer) {
    Int v = 0;
    auto [p, ec] = std::from_chars(first, last, v);
    if (ec == std::errc::result_out_of_range)
      fail("integer " + std::string(s) + at(pos) + " is outside the int64 range");
    if (ec == std::errc() && p == last) return {v};
  } else if (std::any_of(s.begin(), s.end(), is_digit) && s.front() != 'e' && s.front() != 'E') {
    double d = 0;
    auto [p, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range)
      fail("number " + std::string(s) + at(pos) + " is outside the double range");
    if (ec == std::errc() && p == last) return {d};
  }
  syntax_error(pos, "malformed number '" + std::string(s) + "'");
}

std::vector<Token> tokenize(std::string_view src) {
  std::vector<Token> out;
  std::size_t i = 0, chars = 0;  // byte offset, characters before it
  auto advance = [&](std::size_t bytes) {
    for (std::size_t k = 0; k < bytes && i < src.size(); ++k, ++i)
      if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) ++chars;
  };
  auto starts = [&](std::string_view s) { return src.substr(i, s.size()) == s; };
  while (i < src.size()) {
    const char c = src[i];
    Token t;
    t.pos = chars + 1;
    const std::size_t begin = i;
    if (is_space(c)) {
      advance(1);
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < src.size() && is_digit(src[i + 1]))) {
      while (i < src.size() && (is_digit(src[i]) || src[i] == '.')) advance(1);
      if (i < src.size() && (src[i] == 'e' || src[i] == 'E')) {
        advance(1);
        if (i < src.size() && (src[i] == '+' || src[i] == '-')) advance(1);
        while (i < src.size() && is_digit(src[i])) advance(1);
      }
      t.kind = Token::number;
      t.text = std::string(src.substr(begin, i - begin));
      t.value = parse_number(t.text, t.pos);
    } else if (is_alpha(c)) {
      while (i < src.size() && (is_alpha(src[i]) || is_digit(src[i]))) advance(1);
      t.kind = Token::name;
      t.text = std::string(src.substr(begin, i - begin));
    } else if (starts("π")) {
      advance(2);
      t.kind = Token::name;
      t.text = "π";
    } else {
      static const std::pair<std::string_view, char> ops[] = {
          {"**", '^'}, {"+", '+'}, {"-", '-'}, {"−", '-'}, {"*", '*'}, {"×", '*'},
          {"·", '*'},  {"/", '/'}, {"÷", '/'}, {"%", '%'}, {"^", '^'}, {"!", '!'}};
      t.kind = Token::oper;
      for (const auto& [spelling, op] : ops)
        if (starts(spelling)) {
          t.op = op;
          advance(spelling.size());
          break;
        }
      if (!t.op) {
        if (c == '(')
          t.kind = Token::lparen;
        else if (c == ')')
          t.kind = Token::rparen;
        else if (c == ',')
          t.kind = Token::comma;
        else
          syntax_error(t.pos, "unexpected character '" +
                                  std::string(src.substr(i, utf8_length(static_cast<unsigned char>(c)))) +
                                  "'");
        advance(1);
      }
      t.text = std::string(src.substr(begin, i - begin));
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = chars + 1;
  out.push_back(end);
  return out;
}

// ---- names ----------------------------------------------------------------------------------------

struct Function {
  const char* name;
  std::size_t min_args, max_args;
};

constexpr std::size_t kMany = std::numeric_limits<std::size_t>::max();

const Function kFunctions[] = {{"sqrt", 1, 1},  {"abs", 1, 1},     {"exp", 1, 1},     {"ln", 1, 1},
                               {"log", 1, 2},   {"log10", 1, 1},   {"log2", 1, 1},    {"sin", 1, 1},
                               {"cos", 1, 1},   {"tan", 1, 1},     {"asin", 1, 1},    {"acos", 1, 1},
                               {"atan", 1, 1},  {"atan2", 2, 2},   {"floor", 1, 1},   {"ceil", 1, 1},
                               {"round", 1, 2}, {"min", 1, kMany}, {"max", 1, kMany}, {"factorial", 1, 1},
                               {"pow", 2, 2}};

const Function* find_function(const std::string& name) {
  for (const auto& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}


// "; did you mean 'sqrt'?" when a known name is close to `name`, else "".
std::string suggestion(const std::string& name, bool functions_first) {
  std::vector<std::string> known;
  if (!functions_first) known = {"pi", "e"};
  for (const auto& f : kFunctions) known.emplace_back(f.name);
  if (functions_first) known.insert(known.end(), {"pi", "e"});
  std::string best;
  std::size_t best_distance = kMany;
  for (const auto& k : known)
    if (std::size_t d = edit_distance(name, k); d < best_distance) best = k, best_distance = d;
  const std::size_t limit = name.size() <= 3 ? 1 : 2;
  return best_distance <= limit && best_distance < name.size() ? "; did you mean '" + best + "'?" : "";
}

// ---- arithmetic -----------------------------------------------------------------------------------

// Writes a value as an operand: negatives in parentheses, so "(-8)^0.5" reads right.
std::string operand(const CalcResult& v) {
  std::string s = v.text();
  return s[0] == '-' ? "(" + s + ")" : s;
}

std::string show(const CalcResult& l, char op, const CalcResult& r) {
  return op == '^' ? operand(l) + "^" + operand(r) : operand(l) + " " + op + " " + operand(r);
}

CalcResult finite(double d, const std::string& what, std::size_t pos) {
  if (std::isnan(d)) fail(what + " is not a real number" + at(pos));
  if (std::isinf(d)) fail(what + " overflows the double range" + at(pos));
  return {d};
}

[[noreturn]] void overflow(const std::string& what, std::size_t pos) {
  fail("integer overflow in " + what + at(pos) + " (exact integers are limited to int64)");
}

Int int_power(Int base, Int exponent, const std::string& what, std::size_t pos) {
  Int result = 1;
  while (exponent > 0) {
    if ((exponent & 1) && __builtin_mul_overflow(result, base, &result)) overflow(what, pos);
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) overflow(what, pos);
  }
  return result;
}

CalcResult binary(char op, const CalcResult& l, const CalcResult& r, std::size_t pos) {
  const std::string what = show(l, op, r);
  const bool ints = l.is_integer() && r.is_integer();
  const double a = l.as_double(), b = r.as_double();
  if ((op == '/' || op == '%') && b == 0)
    fail((op == '/' ? "division by zero in " : "modulo by zero in ") + what + at(pos));
  if (op == '^' && a == 0 && b < 0) fail("division by zero in " + what + at(pos));
  if (ints) {
    const Int x = std::get<Int>(l.value), y = std::get<Int>(r.value);
    Int z = 0;
    switch (op) {
      case '+':
        if (__builtin_add_overflow(x, y, &z)) overflow(what, pos);
        return {z};
      case '-':
        if (__builtin_sub_overflow(x, y, &z)) overflow(what, pos);
        return {z};
      case '*':
        if (__builtin_mul_overflow(x, y, &z)) overflow(what, pos);
        return {z};
      case '/':
        if (x == std::numeric_limits<Int>::min() && y == -1) overflow(what, pos);
        if (x % y == 0) return {x / y};
        return {a / b};
      case '%':
        if (y == -1) return {Int{0}};
        z = x % y;
        return {z != 0 && (z < 0) != (y < 0) ? z + y : z};
      case '^':
        if (y >= 0) return {int_power(x, y, what, pos)};
        break;
    }
  }
  switch (op) {
    case '+':
      return finite(a + b, what, pos);
    case '-':
      return finite(a - b, what, pos);
    case '*':
      return finite(a * b, what, pos);
    case '/':
      return finite(a / b, what, pos);
    case '%': {
      double z = std::fmod(a, b);
      return finite(z != 0 && (z < 0) != (b < 0) ? z + b : z, what, pos);
    }
    default:
      return finite(std::pow(a, b), what, pos);
  }
}

CalcResult negate(const CalcResult& v, std::size_t pos) {
  if (!v.is_integer()) return {-std::get<double>(v.value)};
  const Int x = std::get<Int>(v.value);
  if (x == std::numeric_limits<Int>::min()) overflow("-" + operand(v), pos);
  return {-x};
}

// The integral value of `v`, when it has one that fits int64.
std::optional<Int> integral(const CalcResult& v) {
  if (v.is_integer()) return std::get<Int>(v.value);
  const double d = std::get<double>(v.value);
  if (d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
    return static_cast<Int>(d);
  return std::nullopt;
}

// floor/ceil/round results: integers when they fit int64.
CalcResult whole(double d) {
  if (auto i = integral(CalcResult{d})) return {*i};
  return {d};
}

CalcResult factorial(const CalcResult& v, const std::string& what, std::size_t pos) {
  const auto n = integral(v);
  if (!n || *n < 0) fail(what + " is undefined: factorial needs a non-negative integer" + at(pos));
  if (*n > 20)
    fail("integer overflow in " + what + at(pos) +
         ": the largest factorial within int64 is 20! = 2432902008176640000");
  Int result = 1;
  for (Int k = 2; k <= *n; ++k) result *= k;
  return {result};
}

CalcResult isqrt_or_sqrt(const CalcResult& v) {
  if (v.is_integer()) {
    const Int x = std::get<Int>(v.value);
    auto r = static_cast<Int>(std::sqrt(static_cast<double>(x)));
    while (static_cast<unsigned __int128>(r) * r > static_cast<unsigned __int128>(x)) --r;
    while (static_cast<unsigned __int128>(r + 1) * (r + 1) <= static_cast<unsigned __int128>(x)) ++r;
    if (r * r == x) return {r};
  }
  return {std::sqrt(v.as_double())};
}

CalcResult round_to(const CalcResult& x, const CalcResult& places, const std::string& what, std::size_t pos) {
  const auto n = integral(places);
  if (!n || *n < -18 || *n > 18)
    fail(what + ": the number of decimal places must be an integer from -18 to 18" + at(pos));
  if (x.is_integer() && *n >= 0) return x;
  if (x.is_integer()) {
    const Int v = std::get<Int>(x.value), p = int_power(10, -*n, what, pos);
    Int q = v / p;
    const Int rest = v % p;
    if (rest != 0 && (rest > 0 ? rest : -rest) >= p - (rest > 0 ? rest : -rest)) q += v < 0 ? -1 : 1;
    Int out = 0;
    if (__builtin_mul_overflow(q, p, &out)) overflow(what, pos);
    return {out};
  }
  const double scale = std::pow(10.0, static_cast<double>(*n));
  const double d = std::get<double>(x.value), scaled = d * scale;
  if (!std::isfinite(scaled)) return x;  // too large to have those decimals: already "rounded"
  const double rounded = std::round(scaled) / scale;
  return *n <= 0 ? whole(rounded) : finite(rounded, what, pos);
}

// a < b, compared exactly when both are integers.
bool less(const CalcResult& a, const CalcResult& b) {
  if (a.is_integer() && b.is_integer()) return std::get<Int>(a.value) < std::get<Int>(b.value);
  return a.as_double() < b.as_double();
}

CalcResult call(const std::string& name, const std::vector<CalcResult>& args, std::size_t pos) {
  std::string what = name + "(";
  for (std::size_t k = 0; k < args.size(); ++k) what += (k ? ", " : "") + args[k].text();
  what += ")";
  const CalcResult& v = args[0];
  const double x = v.as_double();
  auto undefined = [&](const char* why) { fail(what + " is undefined: " + why + at(pos)); };
  if (name == "sqrt") {
    if (x < 0) undefined("the argument must be >= 0 (complex results are not supported)");
    return isqrt_or_sqrt(v);
  }
  if (name == "abs") return x < 0 ? negate(v, pos) : v;
  if (name == "exp") return finite(std::exp(x), what, pos);
  if (name == "ln" || name == "log" || name == "log10" || name == "log2") {
    if (x <= 0) undefined("the argument must be > 0");
    if (name == "ln" || (name == "log" && args.size() == 1)) return finite(std::log(x), what, pos);
    const double base = name == "log10" ? 10 : name == "log2" ? 2 : args[1].as_double();
    if (base <= 0 || base == 1) undefined("the base must be > 0 and not 1");
    if (base == 10) return finite(std::log10(x), what, pos);
    if (base == 2) return finite(std::log2(x), what, pos);
    return finite(std::log(x) / std::log(base), what, pos);
  }
  if (name == "sin") return finite(std::sin(x), what, pos);
  if (name == "cos") return finite(std::cos(x), what, pos);
  if (name == "tan") return finite(std::tan(x), what, pos);
  if (name == "asin" || name == "acos") {
    if (x < -1 || x > 1) undefined("the argument must be within [-1, 1]");
    return {name == "asin" ? std::asin(x) : std::acos(x)};
  }
  if (name == "atan") return {std::atan(x)};
  if (name == "atan2") return {std::atan2(x, args[1].as_double())};
  if (name == "floor") return v.is_integer() ? v : whole(std::floor(x));
  if (name == "ceil") return v.is_integer() ? v : whole(std::ceil(x));
  if (name == "round")
    return args.size() == 2 ? round_to(v, args[1], what, pos) : v.is_integer() ? v : whole(std::round(x));
  if (name == "min" || name == "max") {
    const CalcResult* best = &args[0];
    for (const auto& a : args)
      if (name == "min" ? less(a, *best) : less(*best, a)) best = &a;
    return *best;
  }
  if (name == "factorial") return factorial(v, what, pos);
  return binary('^', args[0], args[1], pos);  // pow
}

// ---- parser ---------------------------------------------------------------------------------------
// Precedence, loosest first: + -  |  * / %  |  unary + -  |  ^ (right-assoc)  |  postfix !  |  atoms.
// The parser runs twice: first to check the syntax of the whole expression (so a syntax error is
// reported before any arithmetic error), then to evaluate. Evaluating while parsing keeps long
// left-associative chains iterative instead of recursive.

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, bool evaluate) : toks_(tokens), eval_(evaluate) {}

  CalcResult run() {
    CalcResult v = expression();
    if (peek().kind != Token::end) unexpected();
    return v;
  }

 private:
  const Token& peek() const { return toks_[i_]; }
  const Token& take() { return toks_[i_++]; }
  bool at_op(char op) const { return peek().kind == Token::oper && peek().op == op; }

  [[noreturn]] void unexpected() const {
    const Token& t = peek();
    const bool operand = t.kind == Token::number || t.kind == Token::name || t.kind == Token::lparen;
    syntax_error(t.pos, "unexpected " + describe(t) + (operand && i_ > 0 ? " (missing operator?)" : ""));
  }

  void expect(Token::Kind kind, const char* spelling) {
    if (peek().kind != kind)
      syntax_error(peek().pos, std::string("expected '") + spelling + "', found " + describe(peek()));
    ++i_;
  }

  struct Depth {
    explicit Depth(int& d) : d_(d) {
      if (++d_ > kMaxDepth)
        fail("expression is nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
    }
    ~Depth() { --d_; }
    int& d_;
  };

  CalcResult expression() {
    CalcResult v = term();
    while (at_op('+') || at_op('-')) {
      const Token& op = take();
      CalcResult r = term();
      if (eval_) v = binary(op.op, v, r, op.pos);
    }
    return v;
  }

  CalcResult term() {
    CalcResult v = unary();
    while (at_op('*') || at_op('/') || at_op('%')) {
      const Token& op = take();
      CalcResult r = unary();
      if (eval_) v = binary(op.op, v, r, op.pos);
    }
    return v;
  }

  CalcResult unary() {
    if (at_op('-') || at_op('+')) {
      Depth guard(depth_);
      const Token& op = take();
      CalcResult v = unary();
      return eval_ && op.op == '-' ? negate(v, op.pos) : v;
    }
    return power();
  }

  CalcResult power() {
    CalcResult base = postfix();
    if (!at_op('^')) return base;
    Depth guard(depth_);
    const Token& op = take();
    CalcResult exponent = unary();  // right-associative, and 2^-1 is allowed
    return eval_ ? binary('^', base, exponent, op.pos) : base;
  }

  CalcResult postfix() {
    CalcResult v = primary();
    while (at_op('!')) {
      const Token& op = take();
      if (eval_) v = factorial(v, operand(v) + "!", op.pos);
    }
    return v;
  }

  CalcResult primary() {
    Depth guard(depth_);
    const Token& t = peek();
    if (t.kind == Token::number) return take().value;
    if (t.kind == Token::lparen) {
      ++i_;
      CalcResult v = expression();
      expect(Token::rparen, ")");
      return v;
    }
    if (t.kind != Token::name) {
      if (t.kind == Token::end && i_ == 0) fail("empty expression");
      syntax_error(t.pos, "expected a number, a name or '(', found " + describe(t));
    }
    ++i_;
    const std::string name = ascii_lower(t.text);
    const bool called = peek().kind == Token::lparen;
    if (!called) {
      if (name == "pi" || name == "π") return {std::numbers::pi};
      if (name == "e") return {std::numbers::e};
      if (find_function(name))
        syntax_error(peek().pos, "expected '(' after function '" + name + "', found " + describe(peek()));
      fail("unknown name '" + t.text + "'" + at(t.pos) + suggestion(name, false));
    }
    const Function* f = find_function(name);
    if (!f) fail("unknown function '" + t.text + "'" + at(t.pos) + suggestion(name, true));
    ++i_;
    std::vector<CalcResult> args;
    if (peek().kind != Token::rparen) {
      args.push_back(expression());
      while (peek().kind == Token::comma) {
        ++i_;
        args.push_back(expression());
      }
    }
    if (peek().kind != Token::rparen)
      syntax_error(peek().pos, "expected ',' or ')', found " + describe(peek()));
    ++i_;
    if (args.size() < f->min_args || args.size() > f->max_args) {
      const std::string takes = f->max_args == kMany ? "at least " + std::to_string(f->min_args)
                                : f->min_args == f->max_args
                                    ? std::to_string(f->min_args)
                                    : std::to_string(f->min_args) + " or " + std::to_string(f->max_args);
      fail("wrong number of arguments" + at(t.pos) + ": " + name + " takes " + takes +
           (takes == "1" || takes == "at least 1" ? " argument" : " arguments") + ", got " +
           std::to_string(args.size()));
    }
    return eval_ ? call(name, args, t.pos) : CalcResult{};
  }

  const std::vector<Token>& toks_;
  bool eval_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

double CalcResult::as_double() const {
  return is_integer() ? static_cast<double>(std::get<Int>(value)) : std::get<double>(value);
}

std::string CalcResult::text() const {
  return is_integer() ? std::to_string(std::get<Int>(value)) : double_text(std::get<double>(value));
}

nlohmann::json CalcResult::json() const {
  if (is_integer()) return std::get<Int>(value);
  const std::string s = text();
  Int i = 0;
  if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      ec == std::errc() && p == s.data() + s.size())
    return i;
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

CalcResult evaluate_expression(std::string_view expression) {
  const std::vector<Token> tokens = tokenize(expression);
  if (tokens.size() == 1) fail("empty expression");
  Parser(tokens, false).run();
  return Parser(tokens, true).run();
}

Tool make_calculator_tool() {
  Tool tool;
  tool.spec.name = "calculator";
  tool.spec.description =
      "Evaluates an arithmetic expression exactly and returns the number. Supports + - * / % ^ (power; also "
      "× ÷ **), parentheses, postfix ! (factorial), constants pi and e, and sqrt abs exp ln log log10 log2 "
      "sin cos tan asin acos atan atan2 floor ceil round min max factorial pow. log(x) is the natural "
      "logarithm, log(x, b) the base-b one; angles are in radians. Integers are exact (64-bit); other "
      "results have 15 significant digits.";
  tool.spec.parameters = {
      {"type", "object"},
      {"properties",
       {{"expression",
         {{"type", "string"},
          {"description", "The expression, e.g. \"(2+3)*4^2 - sqrt(16)\" or \"log(1000, 10)\""},
          {"minLength", 1}}}}},
      {"required", {"expression"}},
      {"additionalProperties", false}};
  tool.spec.result_schema = nlohmann::json{
      {"type", "object"},
      {"properties",
       {{"expression", {{"type", "string"}}},
        {"result", {{"type", "number"}, {"description", "An integer when exact, else a double"}}},
        {"text",
         {{"type", "string"},
          {"description", "The result as text: exact integers, else 15 significant digits"}}}}},
      {"required", {"expression", "result", "text"}},
      {"additionalProperties", false}};
  tool.handler = [](const nlohmann::json& args) {
    const auto it = args.find("expression");
    if (it == args.end() || !it->is_string()) throw CalculatorError("'expression' must be a string");
    const std::string expression = it->get<std::string>();
    const CalcResult value = evaluate_expression(expression);
    return nlohmann::json{{"expression", expression}, {"result", value.json()}, {"text", value.text()}};
  };
  return tool;
}

}  // namespace chorus::tools
