// Python-style argument binding for the Jinja builtins.
#include "inference/jinja-arguments.h"

#include <cmath>

#include "inference/jinja-error.h"

namespace chorus::inference::jinja {

Params::Params(const Arguments& args, std::initializer_list<std::string_view> names,
               const std::string& what) {
  values_.resize(names.size());
  if (args.positional.size() > names.size()) {
    throw OperationError(what + "() takes at most " + std::to_string(names.size()) + " argument(s) (" +
                         std::to_string(args.positional.size()) + " given)");
  }
  for (size_t i = 0; i < args.positional.size(); ++i) values_[i] = args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    size_t index = 0;
    for (auto n : names) {
      if (n == key) break;
      ++index;
    }
    if (index == names.size())
      throw OperationError(what + "() got an unexpected keyword argument '" + key + "'");
    if (values_[index]) throw OperationError(what + "() got multiple values for argument '" + key + "'");
    values_[index] = value;
  }
}

Value Params::required(size_t i, const std::string& what, const char* name) const {
  if (!values_[i]) throw OperationError(what + "() missing required argument '" + name + "'");
  return *values_[i];
}

void no_arguments(const Arguments& args, const std::string& what) {
  Params p(args, {}, what);
}

int64_t int_arg(const Value& v, const std::string& what) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float() && v.as_double() == std::floor(v.as_double())) return static_cast<int64_t>(v.as_double());
  throw OperationError(what + ": expected an integer, got '" + v.type_name() + "'");
}

std::string string_arg(const Value& v, const std::string& what) {
  if (!v.is_string()) throw OperationError(what + ": expected a string, got '" + v.type_name() + "'");
  return v.as_string();
}

}  // namespace chorus::inference::jinja
