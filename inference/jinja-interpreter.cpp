// Jinja tree-walking interpreter with Jinja2's scoping: if/set do not open scopes, every for-loop iteration,
// macro call and with block does (so a set inside a loop is gone after it; namespace() objects carry state).
#include "inference/jinja-interpreter.h"

#include <unordered_map>

#include "inference/jinja-error.h"
#include "inference/jinja-filters.h"
#include "inference/jinja-globals.h"
#include "inference/jinja-methods.h"
#include "inference/jinja-operators.h"
#include "inference/jinja-parser.h"

namespace chorus::inference::jinja {
namespace {

struct Frame {
  explicit Frame(std::shared_ptr<Frame> p) : parent(std::move(p)) {}
  std::shared_ptr<Frame> parent;
  std::unordered_map<std::string, Value> vars;

  const Value* lookup(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent.get()) {
      auto it = f->vars.find(name);
      if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
  }
};
using FramePtr = std::shared_ptr<Frame>;

enum class Flow { kNormal, kBreak, kContinue };

constexpr int kMaxCallDepth = 256;

class Renderer {
 public:
  Flow exec(const Body& body, const FramePtr& frame, std::string& out) {
    for (const auto& stmt : body) {
      Flow flow;
      try {
        flow = exec_statement(*stmt, frame, out);
      } catch (const OperationError& e) {
        throw TemplateError(stmt->pos, e.what());
      }
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Value eval(const Expr& e, const FramePtr& frame) {
    try {
      return eval_expression(e, frame);
    } catch (const OperationError& error) {
      throw TemplateError(e.pos, error.what());
    }
  }

 private:
  // ---- statements ----

  Flow exec_statement(const Stmt& s, const FramePtr& frame, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::kText:
        out += static_cast<const TextStmt&>(s).text;
        return Flow::kNormal;
      case Stmt::Kind::kPrint:
        out += eval(*static_cast<const PrintStmt&>(s).expr, frame).str();
        return Flow::kNormal;
      case Stmt::Kind::kIf: {
        const auto& node = static_cast<const IfStmt&>(s);
        for (const auto& [cond, body] : node.branches) {
          if (eval(*cond, frame).truthy()) return exec(body, frame, out);
        }
        return exec(node.else_body, frame, out);
      }
      case Stmt::Kind::kFor:
        exec_for(static_cast<const ForStmt&>(s), frame, out);
        return Flow::kNormal;
      case Stmt::Kind::kSet: {
        const auto& node = static_cast<const SetStmt&>(s);
        assign(node.target, eval(*node.value, frame), frame);
        return Flow::kNormal;
      }
      case Stmt::Kind::kSetBlock: {
        const auto& node = static_cast<const SetBlockStmt&>(s);
        std::string captured;
        exec(node.body, std::make_shared<Frame>(frame), captured);
        Value v(std::move(captured));
        if (node.filter) v = apply_filter_chain(*node.filter, v, frame);
        assign(node.target, v, frame);
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro: {
        const auto& node = static_cast<const MacroStmt&>(s);
        frame->vars[node.name] = make_macro(node.name, node.params, node.body, frame);
        return Flow::kNormal;
      }
      case Stmt::Kind::kCallBlock: {
        const auto& node = static_cast<const CallBlockStmt&>(s);
        const auto& call = static_cast<const CallExpr&>(*node.call);
        Value callee = eval(*call.callee, frame);
        Arguments args = eval_args(call.args, frame);
        args.keyword.emplace_back("caller", make_macro("caller", node.params, node.body, frame));
        out += invoke(callee, args, call.callee->pos).str();
        return Flow::kNormal;
      }
      case Stmt::Kind::kFilterBlock: {
        const auto& node = static_cast<const FilterBlockStmt&>(s);
        std::string captured;
        exec(node.body, std::make_shared<Frame>(frame), captured);
        out += apply_filter_chain(*node.filter, Value(std::move(captured)), frame).str();
        return Flow::kNormal;
      }
      case Stmt::Kind::kWith: {
        const auto& node = static_cast<const WithStmt&>(s);
        auto inner = std::make_shared<Frame>(frame);
        for (const auto& [name, expr] : node.assignments) inner->vars[name] = eval(*expr, frame);
        return exec(node.body, inner, out);
      }
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kDo:
        eval(*static_cast<const DoStmt&>(s).expr, frame);
        return Flow::kNormal;
      case Stmt::Kind::kGeneration:
        return exec(static_cast<const GenerationStmt&>(s).body, frame, out);
    }
    return Flow::kNormal;
  }

  void assign(const AssignTarget& target, const Value& value, const FramePtr& frame) {
    if (!target.attribute.empty()) {
      const Value* ns = frame->lookup(target.names[0]);
      if (!ns || !ns->is_namespace()) throw OperationError("cannot assign attribute on non-namespace object");
      ns->as_namespace().attributes.set(target.attribute, value);
      return;
    }
    if (target.names.size() == 1) {
      frame->vars[target.names[0]] = value;
      return;
    }
    const auto items = iterate(value);
    if (items.size() != target.names.size()) {
      throw OperationError("cannot unpack " + std::to_string(items.size()) + " values into " +
                           std::to_string(target.names.size()) + " names");
    }
    for (size_t i = 0; i < items.size(); ++i) frame->vars[target.names[i]] = items[i];
  }

  void bind_targets(const ForStmt& node, const Value& item, Frame& frame) {
    if (!node.unpack) {
      frame.vars[node.targets[0]] = item;
      return;
    }
    const auto parts = iterate(item);
    if (parts.size() != node.targets.size()) {
      throw OperationError("cannot unpack " + std::to_string(parts.size()) + " values into " +
                           std::to_string(node.targets.size()) + " loop variables");
    }
    for (size_t i = 0; i < parts.size(); ++i) frame.vars[node.targets[i]] = parts[i];
  }

  void exec_for(const ForStmt& node, const FramePtr& frame, std::string& out) {
    const Value iterable = eval(*node.iterable, frame);
    std::vector<Value> items;
    try {
      items = iterate(iterable);
    } catch (const OperationError& e) {
      throw TemplateError(node.iterable->pos, e.what());
    }
    if (node.filter) {
      std::vector<Value> kept;
      for (auto& item : items) {
        auto probe = std::make_shared<Frame>(frame);
        bind_targets(node, item, *probe);
        if (eval(*node.filter, probe).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      exec(node.else_body, frame, out);
      return;
    }
    const auto length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      auto inner = std::make_shared<Frame>(frame);
      bind_targets(node, items[static_cast<size_t>(i)], *inner);
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(length - i));
      loop.set("revindex0", Value(length - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == length - 1));
      loop.set("length", Value(length));
      loop.set("depth", Value(1));
      loop.set("depth0", Value(0));
      loop.set("previtem",
               i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
      loop.set("nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)]
                                          : Value::undefined("there is no next item"));
      loop.set("cycle", Value::function("loop.cycle", [i](const Arguments& a) {
                 if (a.positional.empty()) throw OperationError("no items for cycling given");
                 return a.positional[static_cast<size_t>(i) % a.positional.size()];
               }));
      inner->vars["loop"] = Value::dict(std::move(loop));
      if (exec(node.body, inner, out) == Flow::kBreak) break;
    }
  }

  Value make_macro(const std::string& name, const std::vector<Parameter>& params, const Body& body,
                   const FramePtr& closure) {
    // A weak reference: the macro is usually stored in `closure` itself, and a strong one would be a cycle.
    std::weak_ptr<Frame> weak = closure;
    return Value::function(name, [this, &params, &body, weak, name](const Arguments& args) {
      FramePtr frame = weak.lock();
      if (!frame) throw OperationError("macro '" + name + "' called after its scope ended");
      return call_macro(name, params, body, frame, args);
    });
  }

  Value call_macro(const std::string& name, const std::vector<Parameter>& params, const Body& body,
                   const FramePtr& closure, const Arguments& args) {
    if (depth_ >= kMaxCallDepth) throw OperationError("maximum macro recursion depth exceeded");
    auto frame = std::make_shared<Frame>(closure);
    std::vector<bool> given(params.size(), false);
    std::vector<Value> varargs;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) {
        frame->vars[params[i].name] = args.positional[i];
        given[i] = true;
      } else {
        varargs.push_back(args.positional[i]);
      }
    }
    Dict kwargs;
    for (const auto& [key, value] : args.keyword) {
      size_t index = 0;
      while (index < params.size() && params[index].name != key) ++index;
      if (index < params.size()) {
        if (given[index])
          throw OperationError("macro '" + name + "' got multiple values for argument '" + key + "'");
        frame->vars[key] = value;
        given[index] = true;
      } else if (key == "caller") {
        frame->vars["caller"] = value;
      } else {
        kwargs.set(key, value);
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (given[i]) continue;
      frame->vars[params[i].name] =
          params[i].default_value ? eval(*params[i].default_value, frame)
                                  : Value::undefined("parameter '" + params[i].name + "' was not provided");
    }
    frame->vars["varargs"] = Value::tuple(std::move(varargs));
    frame->vars["kwargs"] = Value::dict(std::move(kwargs));
    std::string out;
    ++depth_;
    try {
      exec(body, frame, out);
    } catch (...) {
      --depth_;
      throw;
    }
    --depth_;
    return Value(std::move(out));
  }

  // ---- expressions ----

  Arguments eval_args(const CallArgs& args, const FramePtr& frame) {
    Arguments out;
    for (const auto& e : args.positional) out.positional.push_back(eval(*e, frame));
    for (const auto& [k, e] : args.keyword) out.keyword.emplace_back(k, eval(*e, frame));
    return out;
  }

  Value invoke(const Value& callee, const Arguments& args, SourcePos) {
    if (callee.is_undefined()) fail_if_undefined(callee);
    if (!callee.is_function()) throw OperationError("'" + callee.type_name() + "' object is not callable");
    return callee.as_function().call(args);
  }

  // Applies a filter chain (FilterExpr whose innermost operand is null) to `input`.
  Value apply_filter_chain(const Expr& chain, const Value& input, const FramePtr& frame) {
    const auto& f = static_cast<const FilterExpr&>(chain);
    const Value operand = f.operand ? apply_filter_chain(*f.operand, input, frame) : input;
    return find_filter(f.name)(operand, eval_args(f.args, frame));
  }

  Value eval_expression(const Expr& e, const FramePtr& frame) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return static_cast<const LiteralExpr&>(e).value;
      case Expr::Kind::kName: {
        const auto& name = static_cast<const NameExpr&>(e).name;
        if (const Value* v = frame->lookup(name)) return *v;
        return Value::undefined("'" + name + "' is undefined");
      }
      case Expr::Kind::kList: {
        const auto& node = static_cast<const ListExpr&>(e);
        std::vector<Value> items;
        for (const auto& item : node.items) items.push_back(eval(*item, frame));
        return node.tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      case Expr::Kind::kDict: {
        Dict d;
        for (const auto& [k, v] : static_cast<const DictExpr&>(e).items) {
          const Value key = eval(*k, frame);
          if (!key.is_string())
            throw OperationError("dict keys must be strings, got '" + key.type_name() + "'");
          d.set(key.as_string(), eval(*v, frame));
        }
        return Value::dict(std::move(d));
      }
      case Expr::Kind::kAttribute: {
        const auto& node = static_cast<const AttributeExpr&>(e);
        return get_attribute(eval(*node.object, frame), node.name);
      }
      case Expr::Kind::kSubscript: {
        const auto& node = static_cast<const SubscriptExpr&>(e);
        const Value object = eval(*node.object, frame);
        return get_item(object, eval(*node.index, frame));
      }
      case Expr::Kind::kSlice: {
        const auto& node = static_cast<const SliceExpr&>(e);
        const Value object = eval(*node.object, frame);
        auto part = [&](const ExprPtr& p) { return p ? eval(*p, frame) : Value(nullptr); };
        return get_slice(object, part(node.start), part(node.stop), part(node.step));
      }
      case Expr::Kind::kCall: {
        const auto& node = static_cast<const CallExpr&>(e);
        const Value callee = eval(*node.callee, frame);
        return invoke(callee, eval_args(node.args, frame), node.pos);
      }
      case Expr::Kind::kFilter: {
        const auto& node = static_cast<const FilterExpr&>(e);
        const Value operand = eval(*node.operand, frame);
        return find_filter(node.name)(operand, eval_args(node.args, frame));
      }
      case Expr::Kind::kTest: {
        const auto& node = static_cast<const TestExpr&>(e);
        const Value operand = eval(*node.operand, frame);
        const bool result = find_test(node.name)(operand, eval_args(node.args, frame));
        return Value(result != node.negated);
      }
      case Expr::Kind::kUnary: {
        const auto& node = static_cast<const UnaryExpr&>(e);
        const Value v = eval(*node.operand, frame);
        switch (node.op) {
          case UnaryOp::kNot:
            return Value(!v.truthy());
          case UnaryOp::kNegate:
            return negate(v);
          case UnaryOp::kPlus:
            fail_if_undefined(v);
            if (!v.is_numeric())
              throw OperationError("bad operand type for unary +: '" + v.type_name() + "'");
            return v.is_bool() ? Value(v.as_int()) : v;
        }
        return v;
      }
      case Expr::Kind::kBinary:
        return eval_binary(static_cast<const BinaryExpr&>(e), frame);
      case Expr::Kind::kCompare: {
        const auto& node = static_cast<const CompareExpr&>(e);
        Value left = eval(*node.first, frame);
        for (const auto& [op, expr] : node.rest) {
          Value right = eval(*expr, frame);
          if (!compare(op, left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::kConditional: {
        const auto& node = static_cast<const ConditionalExpr&>(e);
        if (eval(*node.test, frame).truthy()) return eval(*node.then_expr, frame);
        if (node.else_expr) return eval(*node.else_expr, frame);
        return Value::undefined(
            "the inline if-expression evaluated to false and no else section was defined");
      }
    }
    return Value();
  }

  Value eval_binary(const BinaryExpr& node, const FramePtr& frame) {
    const Value left = eval(*node.left, frame);
    if (node.op == BinaryOp::kAnd) return left.truthy() ? eval(*node.right, frame) : left;
    if (node.op == BinaryOp::kOr) return left.truthy() ? left : eval(*node.right, frame);
    const Value right = eval(*node.right, frame);
    switch (node.op) {
      case BinaryOp::kAdd:
        return add(left, right);
      case BinaryOp::kSub:
        return subtract(left, right);
      case BinaryOp::kMul:
        return multiply(left, right);
      case BinaryOp::kDiv:
        return divide(left, right);
      case BinaryOp::kFloorDiv:
        return floor_divide(left, right);
      case BinaryOp::kMod:
        return modulo(left, right);
      case BinaryOp::kPow:
        return power(left, right);
      case BinaryOp::kConcat:
        return concat(left, right);
      default:
        return Value();
    }
  }

  static bool compare(CompareOp op, const Value& a, const Value& b) {
    switch (op) {
      case CompareOp::kEq:
        return a == b;
      case CompareOp::kNe:
        return a != b;
      case CompareOp::kLt:
        return check_ordered(a, b), less_than(a, b);
      case CompareOp::kLe:
        return check_ordered(a, b), a == b || less_than(a, b);
      case CompareOp::kGt:
        return check_ordered(a, b), less_than(b, a);
      case CompareOp::kGe:
        return check_ordered(a, b), a == b || less_than(b, a);
      case CompareOp::kIn:
        return contains(b, a);
      case CompareOp::kNotIn:
        return !contains(b, a);
    }
    return false;
  }

  static void check_ordered(const Value& a, const Value& b) {
    fail_if_undefined(a);
    fail_if_undefined(b);
  }

  int depth_ = 0;
};

}  // namespace

Template::Template(const std::string& source, const LexerOptions& options) {
  ParserOptions parser_options;
  parser_options.is_filter = [](std::string_view name) { return find_filter(name) != nullptr; };
  parser_options.is_test = [](std::string_view name) { return find_test(name) != nullptr; };
  body_ = std::make_shared<const Body>(parse(tokenize(source, options), parser_options));
}

std::string Template::render(const Dict& variables) const {
  auto globals = std::make_shared<Frame>(nullptr);
  const Dict builtins = builtin_globals();
  for (const auto& [k, v] : builtins.entries()) globals->vars[k] = v;
  auto top = std::make_shared<Frame>(globals);
  for (const auto& [k, v] : variables.entries()) top->vars[k] = v;
  Renderer renderer;
  std::string out;
  renderer.exec(*body_, top, out);
  return out;
}

std::string Template::render(const nlohmann::ordered_json& variables) const {
  if (!variables.is_object() && !variables.is_null()) {
    throw TemplateError(SourcePos{}, "template variables must be a JSON object");
  }
  Dict d;
  if (variables.is_object()) {
    for (const auto& [k, v] : variables.items()) d.set(k, Value::from_json(v));
  }
  return render(d);
}

}  // namespace chorus::inference::jinja
