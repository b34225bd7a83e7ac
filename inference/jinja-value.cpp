// Jinja values: construction, JSON import, Python truthiness / str / repr / comparisons.
#include "inference/jinja-value.h"

#include <algorithm>

#include "inference/jinja-error.h"
#include "inference/jinja-strings.h"

namespace chorus::inference::jinja {

Value Value::undefined(std::string hint) {
  Value v;
  v.v_ = Undefined{std::move(hint)};
  return v;
}

Value Value::list(std::vector<Value> items) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  return Value(std::move(l));
}

Value Value::tuple(std::vector<Value> items) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  l->is_tuple = true;
  return Value(std::move(l));
}

Value Value::dict(Dict d) {
  return Value(std::make_shared<Dict>(std::move(d)));
}

Value Value::function(std::string name, std::function<Value(const Arguments&)> call) {
  return Value(std::make_shared<Function>(Function{std::move(name), std::move(call)}));
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value(nullptr);
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      for (const auto& [k, e] : j.items()) d.set(k, from_json(e));
      return dict(std::move(d));
    }
    default:
      return Value();  // binary / discarded: nothing sensible
  }
}

bool Value::is_tuple() const {
  return is_list() && as_list().is_tuple;
}

int64_t Value::as_int() const {
  if (is_bool()) return as_bool() ? 1 : 0;
  return std::get<int64_t>(v_);
}

double Value::as_double() const {
  if (is_float()) return std::get<double>(v_);
  return static_cast<double>(as_int());
}

bool Value::truthy() const {
  return std::visit(
      [](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Undefined> || std::is_same_v<T, std::nullptr_t>) {
          return false;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x;
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
          return x != 0;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return !x.empty();
        } else if constexpr (std::is_same_v<T, ListPtr>) {
          return !x->items.empty();
        } else if constexpr (std::is_same_v<T, DictPtr>) {
          return !x->empty();
        } else {
          return true;
        }
      },
      v_);
}

std::string Value::str() const {
  if (is_undefined()) return "";
  if (is_string()) return as_string();
  return repr();
}

std::string Value::repr() const {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Undefined>) {
          return "Undefined";
        } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return "None";
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "True" : "False";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return python_float_repr(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return python_repr_string(x);
        } else if constexpr (std::is_same_v<T, ListPtr>) {
          std::string out = x->is_tuple ? "(" : "[";
          for (size_t i = 0; i < x->items.size(); ++i) {
            if (i) out += ", ";
            out += x->items[i].repr();
          }
          if (x->is_tuple && x->items.size() == 1) out += ",";
          out += x->is_tuple ? ")" : "]";
          return out;
        } else if constexpr (std::is_same_v<T, DictPtr>) {
          std::string out = "{";
          bool first = true;
          for (const auto& [k, v] : x->entries()) {
            if (!first) out += ", ";
            first = false;
            out += python_repr_string(k) + ": " + v.repr();
          }
          return out + "}";
        } else if constexpr (std::is_same_v<T, FunctionPtr>) {
          return "<function " + x->name + ">";
        } else {
          std::string out = "<Namespace {";
          bool first = true;
          for (const auto& [k, v] : x->attributes.entries()) {
            if (!first) out += ", ";
            first = false;
            out += python_repr_string(k) + ": " + v.repr();
          }
          return out + "}>";
        }
      },
      v_);
}

std::string Value::type_name() const {
  if (is_undefined()) return "Undefined";
  if (is_none()) return "NoneType";
  if (is_bool()) return "bool";
  if (is_int()) return "int";
  if (is_float()) return "float";
  if (is_string()) return "str";
  if (is_list()) return is_tuple() ? "tuple" : "list";
  if (is_dict()) return "dict";
  if (is_function()) return "function";
  return "Namespace";
}

bool operator==(const Value& a, const Value& b) {
  if (a.is_numeric() && b.is_numeric()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.storage().index() != b.storage().index()) return false;
  if (a.is_undefined() || a.is_none()) return true;
  if (a.is_string()) return a.as_string() == b.as_string();
  if (a.is_list()) {
    const List& x = a.as_list();
    const List& y = b.as_list();
    if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
    for (size_t i = 0; i < x.items.size(); ++i) {
      if (x.items[i] != y.items[i]) return false;
    }
    return true;
  }
  if (a.is_dict()) {
    const Dict& x = a.as_dict();
    const Dict& y = b.as_dict();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x.entries()) {
      const Value* other = y.find(k);
      if (!other || *other != v) return false;
    }
    return true;
  }
  if (a.is_function()) return &a.as_function() == &b.as_function();
  return &a.as_namespace() == &b.as_namespace();
}

bool less_than(const Value& a, const Value& b) {
  if (a.is_numeric() && b.is_numeric()) {
    if (a.is_float() || b.is_float()) return a.as_double() < b.as_double();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (x[i] != y[i]) return less_than(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw OperationError("'<' not supported between instances of '" + a.type_name() + "' and '" +
                       b.type_name() + "'");
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

Value* Dict::find(std::string_view key) {
  for (auto& e : entries_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

void Dict::set(std::string key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

bool Dict::erase(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.first == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

const Value* Arguments::find_keyword(std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace chorus::inference::jinja
