#pragma once
// Argument binding for builtin filters, tests, methods and globals: a call's positional and keyword
// arguments matched to parameter names the way Python does, plus typed accessors.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// Arguments matched to parameter names (positional first, then keywords); throws OperationError naming
// `what` for too many arguments, unknown or repeated keywords.
class Params {
 public:
  Params(const Arguments& args, std::initializer_list<std::string_view> names, const std::string& what);
  // Whether parameter i was given and is not none.
  bool has(size_t i) const { return values_[i].has_value() && !values_[i]->is_none(); }
  // Parameter i, or `fallback` when not given.
  Value get(size_t i, Value fallback = Value()) const { return values_[i] ? *values_[i] : fallback; }
  // Parameter i; throws OperationError when not given.
  Value required(size_t i, const std::string& what, const char* name) const;

 private:
  std::vector<std::optional<Value>> values_;
};

// Throws OperationError when `args` is not empty.
void no_arguments(const Arguments& args, const std::string& what);
// An int (or bool, or integral float) argument; throws OperationError otherwise.
int64_t int_arg(const Value& v, const std::string& what);
// A string argument; throws OperationError otherwise.
std::string string_arg(const Value& v, const std::string& what);

}  // namespace chorus::inference::jinja
