#pragma once
// Jinja filters (x | name(args)) and tests (x is name(args)) with Jinja2's semantics; tojson is Python's
// json.dumps.
#include <string_view>

#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// A filter: operand | name(args).
using FilterFunction = Value (*)(const Value& operand, const Arguments& args);
// A test: operand is name(args).
using TestFunction = bool (*)(const Value& operand, const Arguments& args);

// The filter called `name`, or nullptr.
FilterFunction find_filter(std::string_view name);
// The test called `name`, or nullptr.
TestFunction find_test(std::string_view name);

}  // namespace chorus::inference::jinja
