#pragma once
// Python semantics of Jinja's operators on values: arithmetic, ~, in, iteration, "%" string formatting.
// Each throws OperationError where Python raises (and where an undefined value is used).
#include <vector>

#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// a + b (numbers, str + str, list + list).
Value add(const Value& a, const Value& b);
// a - b
Value subtract(const Value& a, const Value& b);
// a * b (numbers, str * int, list * int).
Value multiply(const Value& a, const Value& b);
// a / b (always float).
Value divide(const Value& a, const Value& b);
// a // b (floored).
Value floor_divide(const Value& a, const Value& b);
// a % b (Python's sign rule; str % args formats).
Value modulo(const Value& a, const Value& b);
// a ** b
Value power(const Value& a, const Value& b);
// -a
Value negate(const Value& a);
// a ~ b: str(a) + str(b), undefined as "".
Value concat(const Value& a, const Value& b);
// item in container (substring, list element, dict key); undefined containers hold nothing.
bool contains(const Value& container, const Value& item);
// The items Python's iter() gives: list/tuple items, dict keys, string code points; undefined gives none.
std::vector<Value> iterate(const Value& v);
// Python's printf-style "format % args" (%s %r %d %i %f %e %g %x %o %c %%, flags, width, precision, %(key)s).
std::string percent_format(const std::string& format, const Value& args);
// Throws the undefined value's error (its hint, or "undefined value") when v is undefined.
void fail_if_undefined(const Value& v);

}  // namespace chorus::inference::jinja
