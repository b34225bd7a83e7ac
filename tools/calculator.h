#pragma once
// The "calculator" tool: a safe arithmetic expression evaluator (no eval, no processes).
//
// Syntax: numbers (42, 3.14, .5, 1e3), + - * / (also × · ÷ −), % (modulo, sign of the divisor as in
// Python), ^ or ** (power, right-associative, binds tighter than unary minus: -2^2 = -4), postfix !
// (factorial), parentheses, constants pi (π) and e, and the functions sqrt abs exp ln log log10 log2
// sin cos tan asin acos atan atan2 floor ceil round min max factorial pow. Names are case-insensitive.
// log(x) is the natural logarithm (as in most programming languages); log(x, b) is the base-b logarithm.
// round(x) rounds half away from zero; round(x, n) rounds to n decimal places. Angles are in radians.
//
// Numbers: integer literals are exact int64 values; a literal with '.' or an exponent is a double.
// Integer + - * % ^ (exponent >= 0), factorial, abs, min, max stay exact int64; leaving the int64 range
// is an error, never a wrap or a silent switch to double. Integer / integer stays an integer when it
// divides exactly (8/2 = 4), otherwise gives a double (7/2 = 3.5). sqrt of a perfect square and
// floor/ceil/round give integers. Everything else is a double; a non-finite double is an error.
// Text form: integers exactly; doubles with 15 significant digits (1/3 -> 0.333333333333333), and a
// double that is integral and within 2^53 in magnitude prints as an integer (1e3 -> 1000).
#include "tools/tool.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace chorus::tools {

// Why an expression could not be evaluated (syntax error with a 1-based position, domain, overflow...).
class CalculatorError : public ToolError {
 public:
  using ToolError::ToolError;
};

// The value of an expression: an exact integer or a double.
struct CalcResult {
  std::variant<std::int64_t, double> value;
  // True when the value is an exact int64.
  bool is_integer() const { return std::holds_alternative<std::int64_t>(value); }
  // The value as a double (exact for integers within 2^53).
  double as_double() const;
  // "76", "3.5", "0.333333333333333", "1e+20" (see the header comment for the rules).
  std::string text() const;
  // The JSON number that text() spells: an integer when text() is an integer, else a double.
  nlohmann::json json() const;
};

// Evaluates `expression`; throws CalculatorError with a plain message on any error.
CalcResult evaluate_expression(std::string_view expression);

// The "calculator" tool: {"expression": "..."} -> {"expression", "result" (JSON number), "text"}.
Tool make_calculator_tool();

}  // namespace chorus::tools
