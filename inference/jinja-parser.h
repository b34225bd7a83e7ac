#pragma once
// Jinja AST and parser: tokens -> statements and expressions with Jinja2's grammar and precedence.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inference/jinja-lexer.h"
#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// ---- Expressions ----------------------------------------------------------------------------------------

struct Expr {
  enum class Kind {
    kLiteral,
    kName,
    kList,
    kDict,
    kAttribute,
    kSubscript,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kUnary,
    kBinary,
    kCompare,
    kConditional
  };
  Expr(Kind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  Kind kind;
  SourcePos pos;
};
using ExprPtr = std::unique_ptr<Expr>;

// Call arguments: positional and name=value.
struct CallArgs {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

// A constant: string, number, true/false/none.
struct LiteralExpr : Expr {
  LiteralExpr(SourcePos p, const Value& v) : Expr(Kind::kLiteral, p), value(v) {}
  Value value;
};

// A variable reference.
struct NameExpr : Expr {
  NameExpr(SourcePos p, std::string n) : Expr(Kind::kName, p), name(std::move(n)) {}
  std::string name;
};

// [a, b] or (a, b).
struct ListExpr : Expr {
  ListExpr(SourcePos p, bool t) : Expr(Kind::kList, p), tuple(t) {}
  std::vector<ExprPtr> items;
  bool tuple;
};

// {k: v, ...}.
struct DictExpr : Expr {
  explicit DictExpr(SourcePos p) : Expr(Kind::kDict, p) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

// object.name
struct AttributeExpr : Expr {
  AttributeExpr(SourcePos p, ExprPtr o, std::string n)
      : Expr(Kind::kAttribute, p), object(std::move(o)), name(std::move(n)) {}
  ExprPtr object;
  std::string name;
};

// object[index]
struct SubscriptExpr : Expr {
  SubscriptExpr(SourcePos p, ExprPtr o, ExprPtr i)
      : Expr(Kind::kSubscript, p), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

// object[start:stop:step] (each part optional).
struct SliceExpr : Expr {
  SliceExpr(SourcePos p, ExprPtr o) : Expr(Kind::kSlice, p), object(std::move(o)) {}
  ExprPtr object, start, stop, step;
};

// callee(args)
struct CallExpr : Expr {
  CallExpr(SourcePos p, ExprPtr c) : Expr(Kind::kCall, p), callee(std::move(c)) {}
  ExprPtr callee;
  CallArgs args;
};

// operand | name(args); operand is null inside {% filter %} blocks (the block's output is the operand).
struct FilterExpr : Expr {
  FilterExpr(SourcePos p, ExprPtr o, std::string n)
      : Expr(Kind::kFilter, p), operand(std::move(o)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  CallArgs args;
};

// operand is [not] name(args)
struct TestExpr : Expr {
  TestExpr(SourcePos p, ExprPtr o, std::string n, bool neg)
      : Expr(Kind::kTest, p), operand(std::move(o)), name(std::move(n)), negated(neg) {}
  ExprPtr operand;
  std::string name;
  CallArgs args;
  bool negated;
};

enum class UnaryOp { kNot, kNegate, kPlus };
struct UnaryExpr : Expr {
  UnaryExpr(SourcePos p, UnaryOp o, ExprPtr e) : Expr(Kind::kUnary, p), op(o), operand(std::move(e)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { kAnd, kOr, kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow, kConcat };
struct BinaryExpr : Expr {
  BinaryExpr(SourcePos p, BinaryOp o, ExprPtr l, ExprPtr r)
      : Expr(Kind::kBinary, p), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };
// first op1 second op2 third ... (chained like Python).
struct CompareExpr : Expr {
  CompareExpr(SourcePos p, ExprPtr f) : Expr(Kind::kCompare, p), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

// then_expr if test else else_expr (else_expr may be null: undefined).
struct ConditionalExpr : Expr {
  ConditionalExpr(SourcePos p, ExprPtr t, ExprPtr a, ExprPtr b)
      : Expr(Kind::kConditional, p), test(std::move(t)), then_expr(std::move(a)), else_expr(std::move(b)) {}
  ExprPtr test, then_expr, else_expr;
};

// ---- Statements -----------------------------------------------------------------------------------------

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    kText,
    kPrint,
    kIf,
    kFor,
    kSet,
    kSetBlock,
    kMacro,
    kCallBlock,
    kFilterBlock,
    kWith,
    kBreak,
    kContinue,
    kDo,
    kGeneration
  };
  Stmt(Kind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Stmt() = default;
  Kind kind;
  SourcePos pos;
};

// Where `set` stores: names (several = tuple unpacking), or names[0].attribute for a namespace.
struct AssignTarget {
  std::vector<std::string> names;
  std::string attribute;
};

// A macro parameter with an optional default.
struct Parameter {
  std::string name;
  ExprPtr default_value;
};

struct TextStmt : Stmt {
  TextStmt(SourcePos p, std::string t) : Stmt(Kind::kText, p), text(std::move(t)) {}
  std::string text;
};

// {{ expr }}
struct PrintStmt : Stmt {
  PrintStmt(SourcePos p, ExprPtr e) : Stmt(Kind::kPrint, p), expr(std::move(e)) {}
  ExprPtr expr;
};

// {% if %} / {% elif %} ... / {% else %}
struct IfStmt : Stmt {
  explicit IfStmt(SourcePos p) : Stmt(Kind::kIf, p) {}
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body else_body;
};

// {% for targets in iterable [if filter] %} body {% else %} else_body {% endfor %}
struct ForStmt : Stmt {
  explicit ForStmt(SourcePos p) : Stmt(Kind::kFor, p) {}
  std::vector<std::string> targets;
  bool unpack = false;  // targets written as a tuple
  ExprPtr iterable;
  ExprPtr filter;
  Body body;
  Body else_body;
};

// {% set target = value %}
struct SetStmt : Stmt {
  explicit SetStmt(SourcePos p) : Stmt(Kind::kSet, p) {}
  AssignTarget target;
  ExprPtr value;
};

// {% set target [| filters] %} body {% endset %}
struct SetBlockStmt : Stmt {
  explicit SetBlockStmt(SourcePos p) : Stmt(Kind::kSetBlock, p) {}
  AssignTarget target;
  ExprPtr filter;  // FilterExpr chain whose innermost operand is null, or null
  Body body;
};

// {% macro name(params) %} body {% endmacro %}
struct MacroStmt : Stmt {
  explicit MacroStmt(SourcePos p) : Stmt(Kind::kMacro, p) {}
  std::string name;
  std::vector<Parameter> params;
  Body body;
};

// {% call(params) macro(args) %} body {% endcall %}: body is the macro's caller().
struct CallBlockStmt : Stmt {
  explicit CallBlockStmt(SourcePos p) : Stmt(Kind::kCallBlock, p) {}
  ExprPtr call;  // a CallExpr
  std::vector<Parameter> params;
  Body body;
};

// {% filter f | g %} body {% endfilter %}
struct FilterBlockStmt : Stmt {
  explicit FilterBlockStmt(SourcePos p) : Stmt(Kind::kFilterBlock, p) {}
  ExprPtr filter;  // FilterExpr chain whose innermost operand is null
  Body body;
};

// {% with a = 1, b = 2 %} body {% endwith %}
struct WithStmt : Stmt {
  explicit WithStmt(SourcePos p) : Stmt(Kind::kWith, p) {}
  std::vector<std::pair<std::string, ExprPtr>> assignments;
  Body body;
};

// {% break %} / {% continue %} (loopcontrols).
struct LoopControlStmt : Stmt {
  LoopControlStmt(SourcePos p, bool is_break) : Stmt(is_break ? Kind::kBreak : Kind::kContinue, p) {}
};

// {% do expr %}
struct DoStmt : Stmt {
  DoStmt(SourcePos p, ExprPtr e) : Stmt(Kind::kDo, p), expr(std::move(e)) {}
  ExprPtr expr;
};

// {% generation %} body {% endgeneration %} (transformers' assistant-mask marker; renders its body).
struct GenerationStmt : Stmt {
  explicit GenerationStmt(SourcePos p) : Stmt(Kind::kGeneration, p) {}
  Body body;
};

// Which filter and test names exist (unknown ones are parse errors).
struct ParserOptions {
  std::function<bool(std::string_view)> is_filter;
  std::function<bool(std::string_view)> is_test;
};

// The statements of a tokenized template; throws TemplateError (line:column) for syntax errors.
Body parse(const std::vector<Token>& tokens, const ParserOptions& options = {});

}  // namespace chorus::inference::jinja
