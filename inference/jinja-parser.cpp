// Jinja parser: recursive descent over tokens following Jinja2's grammar (precedence from lowest:
// conditional, or, and, not, comparisons/in, + -, ~, * / // %, **, unary - +, then postfix . [] () and
// filters/tests, which bind tightest).
#include "inference/jinja-parser.h"

#include <charconv>
#include <cstdlib>

namespace chorus::inference::jinja {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const ParserOptions& options)
      : tokens_(tokens), options_(options) {}

  Body parse_template() {
    std::string stopped;
    return parse_body({}, stopped, "", SourcePos{});
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return tokens_[i_]; }
  const Token& peek(size_t n = 1) const { return tokens_[std::min(i_ + n, tokens_.size() - 1)]; }
  void advance() {
    if (i_ + 1 < tokens_.size()) ++i_;
  }
  bool at_op(std::string_view op) const { return cur().kind == TokenKind::kOperator && cur().text == op; }
  bool at_name(std::string_view name) const { return cur().kind == TokenKind::kName && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!at_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!at_name(name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd:
        return "end of template";
      case TokenKind::kText:
        return "template text";
      case TokenKind::kString:
        return "string literal";
      case TokenKind::kBlockEnd:
        return "'%}'";
      case TokenKind::kVariableEnd:
        return "'}}'";
      default:
        return "'" + t.text + "'";
    }
  }

  [[noreturn]] void fail(const std::string& problem) const { throw TemplateError(cur().pos, problem); }
  [[noreturn]] void fail_unexpected() const { fail("unexpected " + describe(cur())); }

  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', got " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::kName) fail("expected a name, got " + describe(cur()));
    std::string name = cur().text;
    advance();
    return name;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::kBlockEnd) fail("expected '%}', got " + describe(cur()));
    advance();
  }

  // ---- statements ----

  // Statements until a block whose keyword is in `stops` (consumed, name stored in `stopped`; the rest of
  // that tag is left for the caller) or the template end (only allowed when stops is empty).
  Body parse_body(std::initializer_list<std::string_view> stops, std::string& stopped,
                  const std::string& opener, SourcePos opener_pos) {
    Body body;
    while (true) {
      const Token& t = cur();
      switch (t.kind) {
        case TokenKind::kText:
          body.push_back(std::make_unique<TextStmt>(t.pos, t.text));
          advance();
          break;
        case TokenKind::kVariableBegin: {
          const SourcePos pos = t.pos;
          advance();
          if (cur().kind == TokenKind::kVariableEnd) fail("expected an expression, got '}}'");
          auto expr = parse_tuple(true, false);
          if (cur().kind != TokenKind::kVariableEnd) fail("expected '}}', got " + describe(cur()));
          advance();
          body.push_back(std::make_unique<PrintStmt>(pos, std::move(expr)));
          break;
        }
        case TokenKind::kBlockBegin: {
          const SourcePos pos = t.pos;
          advance();
          if (cur().kind != TokenKind::kName) fail("expected a tag name, got " + describe(cur()));
          const std::string keyword = cur().text;
          for (auto s : stops) {
            if (keyword == s) {
              advance();
              stopped = keyword;
              return body;
            }
          }
          body.push_back(parse_statement(keyword, pos, stops));
          break;
        }
        case TokenKind::kEnd:
          if (stops.size() == 0) return body;
          throw TemplateError(opener_pos, "unclosed '" + opener + "' block: expected '{% " +
                                              std::string(*(stops.end() - 1)) +
                                              " %}' before the end of the template");
        default:
          fail_unexpected();
      }
    }
  }

  StmtPtr parse_statement(const std::string& keyword, SourcePos pos,
                          std::initializer_list<std::string_view> stops) {
    const SourcePos keyword_pos = cur().pos;
    advance();
    if (keyword == "if") return parse_if(pos);
    if (keyword == "for") return parse_for(pos);
    if (keyword == "set") return parse_set(pos);
    if (keyword == "macro") return parse_macro(pos);
    if (keyword == "call") return parse_call_block(pos);
    if (keyword == "filter") return parse_filter_block(pos);
    if (keyword == "with") return parse_with(pos);
    if (keyword == "generation") {
      expect_block_end();
      auto s = std::make_unique<GenerationStmt>(pos);
      std::string stopped;
      s->body = parse_body({"endgeneration"}, stopped, "generation", pos);
      expect_block_end();
      return s;
    }
    if (keyword == "break" || keyword == "continue") {
      if (loop_depth_ == 0) throw TemplateError(keyword_pos, "'" + keyword + "' outside of a loop");
      expect_block_end();
      return std::make_unique<LoopControlStmt>(pos, keyword == "break");
    }
    if (keyword == "do") {
      auto e = parse_tuple(true, false);
      expect_block_end();
      return std::make_unique<DoStmt>(pos, std::move(e));
    }
    static const char* const kEnders[] = {"endif",   "endfor",    "endset",  "endmacro",
                                          "endcall", "endfilter", "endwith", "endgeneration",
                                          "elif",    "else",      "endraw"};
    for (const char* e : kEnders) {
      if (keyword == e) {
        std::string expected;
        for (auto s : stops) expected += (expected.empty() ? "" : " or ") + ("'" + std::string(s) + "'");
        throw TemplateError(keyword_pos, "unexpected '" + keyword + "'" +
                                             (expected.empty() ? "" : " (expected " + expected + ")"));
      }
    }
    static const char* const kUnsupported[] = {"include", "import", "from", "extends", "block", "autoescape"};
    for (const char* u : kUnsupported) {
      if (keyword == u) throw TemplateError(keyword_pos, "unsupported tag '" + keyword + "'");
    }
    throw TemplateError(keyword_pos, "unknown tag '" + keyword + "'");
  }

  StmtPtr parse_if(SourcePos pos) {
    auto s = std::make_unique<IfStmt>(pos);
    std::string stopped = "if";
    while (stopped == "if" || stopped == "elif") {
      auto cond = parse_tuple(true, false);
      expect_block_end();
      Body body = parse_body({"elif", "else", "endif"}, stopped, "if", pos);
      s->branches.emplace_back(std::move(cond), std::move(body));
    }
    if (stopped == "else") {
      expect_block_end();
      s->else_body = parse_body({"endif"}, stopped, "if", pos);
    }
    expect_block_end();
    return s;
  }

  // name | name, name | (name, name)
  std::vector<std::string> parse_target_names(bool& unpack) {
    std::vector<std::string> names;
    const bool parens = skip_op("(");
    names.push_back(expect_name());
    while (skip_op(",")) {
      unpack = true;
      if (cur().kind != TokenKind::kName || at_name("in")) break;
      names.push_back(expect_name());
    }
    if (parens) {
      unpack = true;
      expect_op(")");
    }
    return names;
  }

  StmtPtr parse_for(SourcePos pos) {
    auto s = std::make_unique<ForStmt>(pos);
    s->targets = parse_target_names(s->unpack);
    if (!skip_name("in")) fail("expected 'in', got " + describe(cur()));
    s->iterable = parse_tuple(false, false);
    if (skip_name("if")) s->filter = parse_expression(true);
    if (at_name("recursive")) fail("recursive loops are not supported");
    expect_block_end();
    std::string stopped;
    ++loop_depth_;
    s->body = parse_body({"else", "endfor"}, stopped, "for", pos);
    --loop_depth_;
    if (stopped == "else") {
      expect_block_end();
      s->else_body = parse_body({"endfor"}, stopped, "for", pos);
    }
    expect_block_end();
    return s;
  }

  AssignTarget parse_assign_target() {
    AssignTarget target;
    target.names.push_back(expect_name());
    if (skip_op(".")) {
      target.attribute = expect_name();
      return target;
    }
    while (skip_op(",")) {
      if (cur().kind != TokenKind::kName) break;
      target.names.push_back(expect_name());
    }
    return target;
  }

  StmtPtr parse_set(SourcePos pos) {
    AssignTarget target = parse_assign_target();
    if (skip_op("=")) {
      auto s = std::make_unique<SetStmt>(pos);
      s->target = std::move(target);
      s->value = parse_tuple(true, false);
      expect_block_end();
      return s;
    }
    auto s = std::make_unique<SetBlockStmt>(pos);
    s->target = std::move(target);
    if (at_op("|")) s->filter = parse_filters(nullptr);
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endset"}, stopped, "set", pos);
    expect_block_end();
    return s;
  }

  std::vector<Parameter> parse_parameters() {
    std::vector<Parameter> params;
    expect_op("(");
    while (!at_op(")")) {
      if (!params.empty()) {
        expect_op(",");
        if (at_op(")")) break;
      }
      Parameter p;
      p.name = expect_name();
      if (skip_op("=")) {
        p.default_value = parse_expression(true);
      } else if (!params.empty() && params.back().default_value) {
        fail("non-default parameter '" + p.name + "' follows a default parameter");
      }
      params.push_back(std::move(p));
    }
    expect_op(")");
    return params;
  }

  StmtPtr parse_macro(SourcePos pos) {
    auto s = std::make_unique<MacroStmt>(pos);
    s->name = expect_name();
    s->params = parse_parameters();
    expect_block_end();
    const int saved_depth = loop_depth_;
    loop_depth_ = 0;
    std::string stopped;
    s->body = parse_body({"endmacro"}, stopped, "macro", pos);
    loop_depth_ = saved_depth;
    if (cur().kind == TokenKind::kName) advance();  // {% endmacro name %}
    expect_block_end();
    return s;
  }

  StmtPtr parse_call_block(SourcePos pos) {
    auto s = std::make_unique<CallBlockStmt>(pos);
    if (at_op("(")) s->params = parse_parameters();
    s->call = parse_expression(true);
    if (s->call->kind != Expr::Kind::kCall)
      throw TemplateError(s->call->pos, "expected a macro call after 'call'");
    expect_block_end();
    const int saved_depth = loop_depth_;
    loop_depth_ = 0;
    std::string stopped;
    s->body = parse_body({"endcall"}, stopped, "call", pos);
    loop_depth_ = saved_depth;
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block(SourcePos pos) {
    auto s = std::make_unique<FilterBlockStmt>(pos);
    s->filter = parse_filter_chain(nullptr);
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endfilter"}, stopped, "filter", pos);
    expect_block_end();
    return s;
  }

  StmtPtr parse_with(SourcePos pos) {
    auto s = std::make_unique<WithStmt>(pos);
    while (cur().kind != TokenKind::kBlockEnd) {
      if (!s->assignments.empty()) expect_op(",");
      std::string name = expect_name();
      expect_op("=");
      s->assignments.emplace_back(std::move(name), parse_expression(true));
    }
    expect_block_end();
    std::string stopped;
    s->body = parse_body({"endwith"}, stopped, "with", pos);
    expect_block_end();
    return s;
  }

  // ---- expressions ----

  // Expressions separated by commas make a tuple (parentheses optional), e.g. in set / print.
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens) {
    const SourcePos pos = cur().pos;
    auto first = parse_expression(with_condexpr);
    if (!at_op(",")) return first;
    auto tuple = std::make_unique<ListExpr>(pos, true);
    tuple->items.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().kind == TokenKind::kVariableEnd || cur().kind == TokenKind::kBlockEnd || at_op(")") ||
          (!with_condexpr && at_name("if")))
        break;
      tuple->items.push_back(parse_expression(with_condexpr));
    }
    (void)explicit_parens;
    return tuple;
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    auto expr = parse_or();
    while (at_name("if")) {
      const SourcePos pos = cur().pos;
      advance();
      auto test = parse_or();
      ExprPtr otherwise;
      if (skip_name("else")) otherwise = parse_condexpr();
      expr = std::make_unique<ConditionalExpr>(pos, std::move(test), std::move(expr), std::move(otherwise));
    }
    return expr;
  }

  ExprPtr parse_or() {
    auto left = parse_and();
    while (at_name("or")) {
      const SourcePos pos = cur().pos;
      advance();
      left = std::make_unique<BinaryExpr>(pos, BinaryOp::kOr, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    auto left = parse_not();
    while (at_name("and")) {
      const SourcePos pos = cur().pos;
      advance();
      left = std::make_unique<BinaryExpr>(pos, BinaryOp::kAnd, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (at_name("not")) {
      const SourcePos pos = cur().pos;
      advance();
      return std::make_unique<UnaryExpr>(pos, UnaryOp::kNot, parse_not());
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const SourcePos pos = cur().pos;
    auto first = parse_math1();
    std::unique_ptr<CompareExpr> cmp;
    while (true) {
      CompareOp op;
      if (at_op("==")) {
        op = CompareOp::kEq;
      } else if (at_op("!=")) {
        op = CompareOp::kNe;
      } else if (at_op("<")) {
        op = CompareOp::kLt;
      } else if (at_op("<=")) {
        op = CompareOp::kLe;
      } else if (at_op(">")) {
        op = CompareOp::kGt;
      } else if (at_op(">=")) {
        op = CompareOp::kGe;
      } else if (at_name("in")) {
        op = CompareOp::kIn;
      } else if (at_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
        op = CompareOp::kNotIn;
        advance();
      } else {
        break;
      }
      advance();
      if (!cmp) cmp = std::make_unique<CompareExpr>(pos, std::move(first));
      cmp->rest.emplace_back(op, parse_math1());
    }
    if (cmp) return cmp;
    return first;
  }

  ExprPtr parse_math1() {
    auto left = parse_concat();
    while (at_op("+") || at_op("-")) {
      const SourcePos pos = cur().pos;
      const BinaryOp op = at_op("+") ? BinaryOp::kAdd : BinaryOp::kSub;
      advance();
      left = std::make_unique<BinaryExpr>(pos, op, std::move(left), parse_concat());
    }
    return left;
  }

  ExprPtr parse_concat() {
    auto left = parse_math2();
    while (at_op("~")) {
      const SourcePos pos = cur().pos;
      advance();
      left = std::make_unique<BinaryExpr>(pos, BinaryOp::kConcat, std::move(left), parse_math2());
    }
    return left;
  }

  ExprPtr parse_math2() {
    auto left = parse_pow();
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const SourcePos pos = cur().pos;
      const BinaryOp op = at_op("*")    ? BinaryOp::kMul
                          : at_op("/")  ? BinaryOp::kDiv
                          : at_op("//") ? BinaryOp::kFloorDiv
                                        : BinaryOp::kMod;
      advance();
      left = std::make_unique<BinaryExpr>(pos, op, std::move(left), parse_pow());
    }
    return left;
  }

  ExprPtr parse_pow() {
    auto left = parse_unary(true);
    while (at_op("**")) {
      const SourcePos pos = cur().pos;
      advance();
      left = std::make_unique<BinaryExpr>(pos, BinaryOp::kPow, std::move(left), parse_unary(true));
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    const SourcePos pos = cur().pos;
    ExprPtr node;
    if (skip_op("-")) {
      node = std::make_unique<UnaryExpr>(pos, UnaryOp::kNegate, parse_unary(false));
    } else if (skip_op("+")) {
      node = std::make_unique<UnaryExpr>(pos, UnaryOp::kPlus, parse_unary(false));
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const SourcePos pos = t.pos;
    switch (t.kind) {
      case TokenKind::kName: {
        const std::string name = t.text;
        advance();
        if (name == "true" || name == "True") return std::make_unique<LiteralExpr>(pos, Value(true));
        if (name == "false" || name == "False") return std::make_unique<LiteralExpr>(pos, Value(false));
        if (name == "none" || name == "None") return std::make_unique<LiteralExpr>(pos, Value(nullptr));
        return std::make_unique<NameExpr>(pos, name);
      }
      case TokenKind::kString: {
        std::string s;
        while (cur().kind == TokenKind::kString) {
          s += cur().text;
          advance();
        }
        return std::make_unique<LiteralExpr>(pos, Value(std::move(s)));
      }
      case TokenKind::kInteger: {
        int64_t v = 0;
        auto res = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
        advance();
        if (res.ec != std::errc())
          return std::make_unique<LiteralExpr>(pos, Value(std::strtod(t.text.c_str(), nullptr)));
        return std::make_unique<LiteralExpr>(pos, Value(v));
      }
      case TokenKind::kFloat: {
        const double v = std::strtod(t.text.c_str(), nullptr);
        advance();
        return std::make_unique<LiteralExpr>(pos, Value(v));
      }
      case TokenKind::kOperator:
        if (t.text == "(") {
          advance();
          if (skip_op(")")) return std::make_unique<ListExpr>(pos, true);
          auto inner = parse_tuple(true, true);
          // "(a,)" is a one-element tuple; parse_tuple already made it one.
          expect_op(")");
          return inner;
        }
        if (t.text == "[") {
          advance();
          auto list = std::make_unique<ListExpr>(pos, false);
          while (!at_op("]")) {
            if (!list->items.empty()) {
              expect_op(",");
              if (at_op("]")) break;
            }
            list->items.push_back(parse_expression(true));
          }
          expect_op("]");
          return list;
        }
        if (t.text == "{") {
          advance();
          auto dict = std::make_unique<DictExpr>(pos);
          while (!at_op("}")) {
            if (!dict->items.empty()) {
              expect_op(",");
              if (at_op("}")) break;
            }
            auto key = parse_expression(true);
            expect_op(":");
            dict->items.emplace_back(std::move(key), parse_expression(true));
          }
          expect_op("}");
          return dict;
        }
        fail_unexpected();
      default:
        if (t.kind == TokenKind::kVariableEnd || t.kind == TokenKind::kBlockEnd) {
          fail("expected an expression, got " + describe(t));
        }
        fail_unexpected();
    }
  }

  ExprPtr parse_postfix(ExprPtr node) {
    while (true) {
      const SourcePos pos = cur().pos;
      if (at_op(".")) {
        advance();
        if (cur().kind == TokenKind::kInteger) {
          auto index = std::make_unique<LiteralExpr>(
              cur().pos, Value(static_cast<int64_t>(std::atoll(cur().text.c_str()))));
          advance();
          node = std::make_unique<SubscriptExpr>(pos, std::move(node), std::move(index));
        } else {
          node = std::make_unique<AttributeExpr>(pos, std::move(node), expect_name());
        }
      } else if (at_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr object) {
    const SourcePos pos = cur().pos;
    expect_op("[");
    ExprPtr start;
    if (!at_op(":")) start = parse_expression(true);
    if (!at_op(":")) {
      expect_op("]");
      return std::make_unique<SubscriptExpr>(pos, std::move(object), std::move(start));
    }
    auto slice = std::make_unique<SliceExpr>(pos, std::move(object));
    slice->start = std::move(start);
    advance();  // ':'
    if (!at_op("]") && !at_op(":")) slice->stop = parse_expression(true);
    if (skip_op(":")) {
      if (!at_op("]")) slice->step = parse_expression(true);
    }
    expect_op("]");
    return slice;
  }

  void parse_call_args(CallArgs& args) {
    expect_op("(");
    bool first = true;
    while (!at_op(")")) {
      if (!first) {
        expect_op(",");
        if (at_op(")")) break;
      }
      first = false;
      if (at_op("*") || at_op("**")) fail("*args / **kwargs in calls are not supported");
      if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
        std::string name = cur().text;
        advance();
        advance();
        args.keyword.emplace_back(std::move(name), parse_expression(true));
      } else {
        if (!args.keyword.empty()) fail("positional argument follows keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    const SourcePos pos = callee->pos;
    auto call = std::make_unique<CallExpr>(pos, std::move(callee));
    parse_call_args(call->args);
    return call;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (at_op(".") && peek().kind == TokenKind::kName) {
      advance();
      name += '.';
      name += expect_name();
    }
    return name;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    while (true) {
      if (at_op("|")) {
        node = parse_filters(std::move(node));
      } else if (at_name("is")) {
        node = parse_test(std::move(node));
      } else if (at_op("(")) {
        node = parse_call(std::move(node));
      } else {
        return node;
      }
    }
  }

  // One or more "| name(args)" applied to `node` (null in filter blocks).
  ExprPtr parse_filters(ExprPtr node) {
    while (at_op("|")) {
      advance();
      const SourcePos pos = cur().pos;
      std::string name = parse_dotted_name();
      if (options_.is_filter && !options_.is_filter(name))
        throw TemplateError(pos, "unknown filter '" + name + "'");
      auto f = std::make_unique<FilterExpr>(pos, std::move(node), std::move(name));
      if (at_op("(")) parse_call_args(f->args);
      node = std::move(f);
    }
    return node;
  }

  // The filter list of {% filter a | b(x) %} (first name without a leading "|").
  ExprPtr parse_filter_chain(ExprPtr node) {
    const SourcePos pos = cur().pos;
    std::string name = parse_dotted_name();
    if (options_.is_filter && !options_.is_filter(name))
      throw TemplateError(pos, "unknown filter '" + name + "'");
    auto f = std::make_unique<FilterExpr>(pos, std::move(node), std::move(name));
    if (at_op("(")) parse_call_args(f->args);
    return parse_filters(std::move(f));
  }

  ExprPtr parse_test(ExprPtr node) {
    advance();  // 'is'
    const bool negated = skip_name("not");
    const SourcePos pos = cur().pos;
    std::string name = parse_dotted_name();
    if (options_.is_test && !options_.is_test(name)) throw TemplateError(pos, "unknown test '" + name + "'");
    auto t = std::make_unique<TestExpr>(pos, std::move(node), std::move(name), negated);
    if (at_op("(")) {
      parse_call_args(t->args);
    } else {
      const Token& c = cur();
      const bool starts_argument =
          c.kind == TokenKind::kString || c.kind == TokenKind::kInteger || c.kind == TokenKind::kFloat ||
          at_op("[") || at_op("{") ||
          (c.kind == TokenKind::kName && c.text != "else" && c.text != "or" && c.text != "and" &&
           c.text != "if" && c.text != "in" && c.text != "is" && c.text != "not");
      if (starts_argument) t->args.positional.push_back(parse_postfix(parse_primary()));
    }
    return t;
  }

  const std::vector<Token>& tokens_;
  ParserOptions options_;
  size_t i_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const ParserOptions& options) {
  return Parser(tokens, options).parse_template();
}

}  // namespace chorus::inference::jinja
