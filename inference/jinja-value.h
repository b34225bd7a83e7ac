#pragma once
// The Jinja value type: undefined, none, bool, int, float, string, list/tuple, dict (insertion-ordered),
// callables and namespace objects, with Python's truthiness, str(), repr() and ==.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace chorus::inference::jinja {

struct List;
class Dict;
struct Function;
struct Namespace;
struct Arguments;

// An undefined value; `hint` is the message raised when it is used where Jinja fails (e.g. "'x' is
// undefined").
struct Undefined {
  std::string hint;
};

class Value {
 public:
  using ListPtr = std::shared_ptr<List>;
  using DictPtr = std::shared_ptr<Dict>;
  using FunctionPtr = std::shared_ptr<Function>;
  using NamespacePtr = std::shared_ptr<Namespace>;
  using Storage = std::variant<Undefined, std::nullptr_t, bool, int64_t, double, std::string, ListPtr,
                               DictPtr, FunctionPtr, NamespacePtr>;

  // Undefined (no hint).
  Value() = default;
  // none.
  Value(std::nullptr_t) : v_(nullptr) {}
  // Scalars and containers (lists/dicts/functions/namespaces are shared, like Python objects).
  Value(bool b) : v_(b) {}
  Value(int i) : v_(static_cast<int64_t>(i)) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(ListPtr l) : v_(std::move(l)) {}
  Value(DictPtr d) : v_(std::move(d)) {}
  Value(FunctionPtr f) : v_(std::move(f)) {}
  Value(NamespacePtr n) : v_(std::move(n)) {}

  // An undefined value carrying the error message for misuse.
  static Value undefined(std::string hint);
  // A new list of these items.
  static Value list(std::vector<Value> items = {});
  // A new tuple of these items.
  static Value tuple(std::vector<Value> items);
  // A new dict (a copy of `d`).
  static Value dict(Dict d);
  // A builtin function named `name`.
  static Value function(std::string name, std::function<Value(const Arguments&)> call);
  // A JSON document as values (objects keep their key order).
  static Value from_json(const nlohmann::ordered_json& j);

  // Kind tests.
  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_none() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  // int or float (not bool).
  bool is_number() const { return is_int() || is_float(); }
  // bool, int or float (Python's numbers.Number).
  bool is_numeric() const { return is_bool() || is_number(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  // A list or a tuple.
  bool is_list() const { return std::holds_alternative<ListPtr>(v_); }
  // A tuple (a list marked immutable-looking: printed with parentheses).
  bool is_tuple() const;
  bool is_dict() const { return std::holds_alternative<DictPtr>(v_); }
  bool is_function() const { return std::holds_alternative<FunctionPtr>(v_); }
  bool is_namespace() const { return std::holds_alternative<NamespacePtr>(v_); }

  // Accessors; each requires the matching kind.
  bool as_bool() const { return std::get<bool>(v_); }
  // The integer value of an int or bool.
  int64_t as_int() const;
  // The value of an int, float or bool as a double.
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(v_); }
  List& as_list() const { return *std::get<ListPtr>(v_); }
  Dict& as_dict() const { return *std::get<DictPtr>(v_); }
  Function& as_function() const { return *std::get<FunctionPtr>(v_); }
  Namespace& as_namespace() const { return *std::get<NamespacePtr>(v_); }
  // The undefined value's hint (empty when none).
  const std::string& undefined_hint() const { return std::get<Undefined>(v_).hint; }
  // The underlying variant.
  const Storage& storage() const { return v_; }

  // Python truthiness (undefined is false).
  bool truthy() const;
  // Python str() (undefined is "").
  std::string str() const;
  // Python repr().
  std::string repr() const;
  // The Python type name for messages: 'str', 'int', 'NoneType', 'dict', 'list', 'tuple', 'Undefined', ...
  std::string type_name() const;

 private:
  Storage v_;
};

// Python == (1 == 1.0 == True; dicts compare regardless of order; lists and tuples differ).
bool operator==(const Value& a, const Value& b);
inline bool operator!=(const Value& a, const Value& b) {
  return !(a == b);
}
// Python < for numbers, strings and sequences; throws OperationError for other pairs.
bool less_than(const Value& a, const Value& b);

// The items of a list or tuple.
struct List {
  std::vector<Value> items;
  bool is_tuple = false;
};

// A dict with string keys that keeps insertion order (like Python's dict).
class Dict {
 public:
  using Entry = std::pair<std::string, Value>;
  // The value for `key`, or nullptr.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  // Inserts or replaces (a replaced key keeps its place).
  void set(std::string key, Value value);
  // Removes `key`; false when absent.
  bool erase(std::string_view key);
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// The arguments of a call: positional, then keyword (in call order).
struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The keyword argument `name`, or nullptr.
  const Value* find_keyword(std::string_view name) const;
};

// A callable: builtin function, bound method or macro.
struct Function {
  std::string name;
  std::function<Value(const Arguments&)> call;
};

// The object made by namespace(...): attributes that `set ns.attr = ...` may change.
struct Namespace {
  Dict attributes;
};

}  // namespace chorus::inference::jinja
