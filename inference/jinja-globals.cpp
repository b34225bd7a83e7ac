// Builtin globals: range(), namespace(), dict(), joiner(), cycler() and raise_exception().
#include "inference/jinja-globals.h"

#include <memory>

#include "inference/jinja-arguments.h"
#include "inference/jinja-error.h"
#include "inference/jinja-methods.h"

namespace chorus::inference::jinja {
namespace {

Value global_range(const Arguments& a) {
  if (!a.keyword.empty()) throw OperationError("range() takes no keyword arguments");
  int64_t start = 0, stop = 0, step = 1;
  const auto& p = a.positional;
  if (p.size() == 1) {
    stop = int_arg(p[0], "range");
  } else if (p.size() == 2 || p.size() == 3) {
    start = int_arg(p[0], "range");
    stop = int_arg(p[1], "range");
    if (p.size() == 3) step = int_arg(p[2], "range");
  } else {
    throw OperationError("range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  }
  if (step == 0) throw OperationError("range() arg 3 must not be zero");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.size() >= 10'000'000) throw OperationError("range() too large");
    out.emplace_back(i);
  }
  return Value::list(std::move(out));
}

Dict dict_from_arguments(const Arguments& a, const char* what) {
  Dict d;
  if (a.positional.size() > 1)
    throw OperationError(std::string(what) + "() expected at most 1 positional argument");
  if (!a.positional.empty()) {
    Value target = Value::dict(Dict());
    call_method(target, "update", Arguments{{a.positional[0]}, {}});
    d = target.as_dict();
  }
  for (const auto& [k, v] : a.keyword) d.set(k, v);
  return d;
}

}  // namespace

Dict builtin_globals() {
  Dict g;
  g.set("range", Value::function("range", global_range));
  g.set("dict", Value::function(
                    "dict", [](const Arguments& a) { return Value::dict(dict_from_arguments(a, "dict")); }));
  g.set("namespace", Value::function("namespace", [](const Arguments& a) {
          auto ns = std::make_shared<Namespace>();
          ns->attributes = dict_from_arguments(a, "namespace");
          return Value(ns);
        }));
  g.set("raise_exception", Value::function("raise_exception", [](const Arguments& a) -> Value {
          Params p(a, {"message"}, "raise_exception");
          throw TemplateRaisedError(p.get(0, Value("")).str());
        }));
  g.set("joiner", Value::function("joiner", [](const Arguments& a) {
          Params p(a, {"sep"}, "joiner");
          const std::string sep = p.has(0) ? p.get(0).str() : ", ";
          auto used = std::make_shared<bool>(false);
          return Value::function("joiner", [sep, used](const Arguments&) {
            if (!*used) {
              *used = true;
              return Value("");
            }
            return Value(sep);
          });
        }));
  g.set("cycler", Value::function("cycler", [](const Arguments& a) {
          if (a.positional.empty()) throw OperationError("cycler() needs at least one item");
          auto items = std::make_shared<std::vector<Value>>(a.positional);
          auto pos = std::make_shared<size_t>(0);
          auto ns = std::make_shared<Namespace>();
          ns->attributes.set("next", Value::function("cycler.next", [items, pos](const Arguments&) {
                               Value v = (*items)[*pos];
                               *pos = (*pos + 1) % items->size();
                               return v;
                             }));
          ns->attributes.set("reset", Value::function("cycler.reset", [pos](const Arguments&) {
                               *pos = 0;
                               return Value(nullptr);
                             }));
          return Value(ns);
        }));
  return g;
}

}  // namespace chorus::inference::jinja
