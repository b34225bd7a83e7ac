#pragma once
// Attribute, item and slice access as Jinja resolves them, including the Python str/list/dict methods that
// attribute access reaches (s.startswith, d.items, l.append, ...).
#include <string>

#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// object.name as Jinja resolves it: Python attribute/method first, then item; missing gives undefined
// (an undefined object throws OperationError).
Value get_attribute(const Value& object, const std::string& name);
// object[key] as Jinja resolves it: item first, then attribute; missing gives undefined.
Value get_item(const Value& object, const Value& key);
// object[start:stop:step] for strings, lists and tuples (none/undefined parts are omitted).
Value get_slice(const Value& object, const Value& start, const Value& stop, const Value& step);
// Follows a dotted path such as "a.b.0" with get_item (digits index), like Jinja2's attribute arguments.
Value lookup_path(const Value& item, const std::string& path);
// self.name(args) for a Python str/list/dict method; throws OperationError when there is no such method.
Value call_method(const Value& self, const std::string& name, const Arguments& args);

}  // namespace chorus::inference::jinja
