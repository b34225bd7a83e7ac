#include "runtime/workflow-expression.h"

#include <cctype>
#include <map>
#include <utility>

namespace chorus::runtime {

ExpressionSyntaxError::ExpressionSyntaxError(const std::string& problem, int column)
    : std::runtime_error("column " + std::to_string(column) + ": " + problem), problem_(problem), column_(column) {}

namespace {

using Json = nlohmann::json;

// One step of a path: .name / ['name'] or [index].
struct Segment {
  bool is_index = false;
  std::string name;
  long long index = 0;
};

enum class Tok { number, string, ident, dot, lbracket, rbracket, lparen, rparen, comma, op, minus, end };

struct Token {
  Tok type = Tok::end;
  std::string text;  // identifier, operator, or decoded string
  Json number;
  int column = 1;    // 1-based, including the caller's offset
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string describe(const Token& t) {
  switch (t.type) {
    case Tok::end: return "the end of the expression";
    case Tok::string: return "string '" + t.text + "'";
    case Tok::number: return "number " + t.text;
    default: return "'" + t.text + "'";
  }
}

std::vector<Token> tokenize(const std::string& text, int column_offset) {
  std::vector<Token> out;
  size_t i = 0;
  auto col = [&](size_t at) { return static_cast<int>(at) + 1 + column_offset; };
  while (i < text.size()) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.column = col(i);
    if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      bool is_float = false;
      if (i + 1 < text.size() && text[i] == '.' && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        is_float = true;
        ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      }
      if (i < text.size() && is_name_start(text[i]))
        throw ExpressionSyntaxError("a name cannot start with a digit", t.column);
      t.type = Tok::number;
      t.text = text.substr(start, i - start);
      try {
        t.number = is_float ? Json(std::stod(t.text)) : Json(std::stoll(t.text));
      } catch (const std::exception&) {
        throw ExpressionSyntaxError("number " + t.text + " is out of range", t.column);
      }
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      std::string value;
      while (j < text.size() && text[j] != c) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          char e = text[j + 1];
          value.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
          j += 2;
        } else {
          value.push_back(text[j++]);
        }
      }
      if (j >= text.size())
        throw ExpressionSyntaxError(std::string("unterminated string; close it with ") + c, t.column);
      t.type = Tok::string;
      t.text = value;
      i = j + 1;
    } else if (is_name_start(c)) {
      size_t start = i;
      while (i < text.size() && is_name_char(text[i])) ++i;
      t.type = Tok::ident;
      t.text = text.substr(start, i - start);
    } else {
      std::string two = text.substr(i, 2);
      if (two == "==" || two == "!=" || two == "<=" || two == ">=" || two == "&&" || two == "||") {
        t.type = Tok::op;
        t.text = two;
        i += 2;
      } else {
        t.text = std::string(1, c);
        switch (c) {
          case '<': case '>': case '!': t.type = Tok::op; break;
          case '.': t.type = Tok::dot; break;
          case '[': t.type = Tok::lbracket; break;
          case ']': t.type = Tok::rbracket; break;
          case '(': t.type = Tok::lparen; break;
          case ')': t.type = Tok::rparen; break;
          case ',': t.type = Tok::comma; break;
          case '-': t.type = Tok::minus; break;
          case '=':
            throw ExpressionSyntaxError("'=' is not an operator; compare with '=='", t.column);
          case '&':
            throw ExpressionSyntaxError("'&' is not an operator; use '&&' or 'and'", t.column);
          case '|':
            throw ExpressionSyntaxError("'|' is not an operator; use '||' or 'or'", t.column);
          default:
            throw ExpressionSyntaxError(std::string("unexpected character '") + c + "'", t.column);
        }
        ++i;
      }
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.type = Tok::end;
  end.column = col(text.size());
  out.push_back(end);
  return out;
}

}  // namespace

struct Expression::Node {
  enum class Type { literal, path, negate, logical_and, logical_or, compare, call };
  Type type = Type::literal;
  Json value;                   // literal
  std::vector<Segment> path;    // path
  std::string op;               // compare: the operator; call: the function name
  std::vector<std::shared_ptr<const Node>> args;
  std::string text;             // path as written
};

namespace {

using NodePtr = std::shared_ptr<const Expression::Node>;
using Node = Expression::Node;

const std::map<std::string, size_t>& functions() {
  static const std::map<std::string, size_t> table = {{"contains", 2}, {"len", 1}, {"lower", 1}};
  return table;
}

class Parser {
 public:
  Parser(const std::string& text, int column_offset, std::vector<ExpressionReference>& refs)
      : text_(text), offset_(column_offset), tokens_(tokenize(text, column_offset)), refs_(refs) {}

  NodePtr parse_expression() {
    auto node = parse_or();
    expect_end();
    return node;
  }

  NodePtr parse_path_only() {
    if (peek().type != Tok::ident)
      throw ExpressionSyntaxError("expected a name, found " + describe(peek()), peek().column);
    auto node = parse_path();
    expect_end();
    return node;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() { return tokens_[pos_++]; }
  bool at_op(const char* op) const { return peek().type == Tok::op && peek().text == op; }
  bool at_word(const char* word) const { return peek().type == Tok::ident && peek().text == word; }

  void expect_end() {
    if (peek().type != Tok::end) {
      std::string hint = peek().type == Tok::op && (peek().text == "==" || peek().text == "!=" ||
                                                    peek().text == "<" || peek().text == "<=" ||
                                                    peek().text == ">" || peek().text == ">=")
                             ? "; join comparisons with && or ||"
                             : "; expected an operator such as == or &&";
      throw ExpressionSyntaxError("unexpected " + describe(peek()) + hint, peek().column);
    }
  }

  NodePtr parse_or() {
    auto left = parse_and();
    while (at_op("||") || at_word("or")) {
      take();
      auto node = std::make_shared<Node>();
      node->type = Node::Type::logical_or;
      node->args = {left, parse_and()};
      left = node;
    }
    return left;
  }

  NodePtr parse_and() {
    auto left = parse_not();
    while (at_op("&&") || at_word("and")) {
      take();
      auto node = std::make_shared<Node>();
      node->type = Node::Type::logical_and;
      node->args = {left, parse_not()};
      left = node;
    }
    return left;
  }

  NodePtr parse_not() {
    if (at_op("!") || at_word("not")) {
      take();
      auto node = std::make_shared<Node>();
      node->type = Node::Type::negate;
      node->args = {parse_not()};
      return node;
    }
    return parse_comparison();
  }

  NodePtr parse_comparison() {
    auto left = parse_primary();
    if (peek().type == Tok::op && peek().text != "!" && peek().text != "&&" && peek().text != "||") {
      auto node = std::make_shared<Node>();
      node->type = Node::Type::compare;
      node->op = take().text;
      node->args = {left, parse_primary()};
      return node;
    }
    return left;
  }

  NodePtr parse_primary() {
    const Token& t = peek();
    auto node = std::make_shared<Node>();
    switch (t.type) {
      case Tok::number:
        node->value = take().number;
        return node;
      case Tok::string:
        node->value = take().text;
        return node;
      case Tok::minus: {
        take();
        if (peek().type != Tok::number)
          throw ExpressionSyntaxError("'-' must be followed by a number", t.column);
        const Json& n = take().number;
        node->value = n.is_number_integer() ? Json(-n.get<long long>()) : Json(-n.get<double>());
        return node;
      }
      case Tok::lparen: {
        take();
        auto inner = parse_or();
        if (peek().type != Tok::rparen)
          throw ExpressionSyntaxError("expected ')' to close the '(' at column " + std::to_string(t.column) +
                                          ", found " + describe(peek()),
                                      peek().column);
        take();
        return inner;
      }
      case Tok::ident: {
        if (t.text == "true" || t.text == "false") {
          node->value = take().text == "true";
          return node;
        }
        if (t.text == "null") {
          take();
          return node;
        }
        if (t.text == "and" || t.text == "or" || t.text == "not")
          throw ExpressionSyntaxError("expected a value before '" + t.text + "'", t.column);
        if (tokens_[pos_ + 1].type == Tok::lparen) return parse_call();
        return parse_path();
      }
      default:
        throw ExpressionSyntaxError("expected a value (a path, string, number, true, false, null or a function "
                                    "call), found " + describe(t),
                                    t.column);
    }
  }

  NodePtr parse_call() {
    const Token& name = take();
    auto it = functions().find(name.text);
    if (it == functions().end())
      throw ExpressionSyntaxError("unknown function '" + name.text + "'; the functions are contains(a, b), len(x), "
                                  "lower(x)",
                                  name.column);
    take();  // (
    auto node = std::make_shared<Node>();
    node->type = Node::Type::call;
    node->op = name.text;
    if (peek().type != Tok::rparen) {
      node->args.push_back(parse_or());
      while (peek().type == Tok::comma) {
        take();
        node->args.push_back(parse_or());
      }
    }
    if (peek().type != Tok::rparen)
      throw ExpressionSyntaxError("expected ',' or ')' in the call of " + name.text + ", found " + describe(peek()),
                                  peek().column);
    take();
    if (node->args.size() != it->second)
      throw ExpressionSyntaxError(name.text + "() takes " + std::to_string(it->second) + " argument" +
                                      (it->second == 1 ? "" : "s") + ", got " + std::to_string(node->args.size()),
                                  name.column);
    return node;
  }

  NodePtr parse_path() {
    const Token& first = take();
    auto node = std::make_shared<Node>();
    node->type = Node::Type::path;
    ExpressionReference ref;
    ref.column = first.column;
    ref.names.push_back(first.text);
    bool names_done = false;
    node->path.push_back(Segment{false, first.text, 0});
    int end_column = first.column + static_cast<int>(first.text.size());
    while (peek().type == Tok::dot || peek().type == Tok::lbracket) {
      const Token& open = take();
      Segment seg;
      if (open.type == Tok::dot) {
        if (peek().type != Tok::ident)
          throw ExpressionSyntaxError("expected a name after '.', found " + describe(peek()), peek().column);
        const Token& name = take();
        seg.name = name.text;
        end_column = name.column + static_cast<int>(name.text.size());
      } else {
        const Token& inside = take();
        if (inside.type == Tok::string) {
          seg.name = inside.text;
        } else if (inside.type == Tok::number && inside.number.is_number_integer()) {
          seg.is_index = true;
          seg.index = inside.number.get<long long>();
        } else if (inside.type == Tok::minus && peek().type == Tok::number && peek().number.is_number_integer()) {
          seg.is_index = true;
          seg.index = -take().number.get<long long>();
        } else {
          throw ExpressionSyntaxError("expected an index (an integer or a quoted key) after '[', found " +
                                          describe(inside),
                                      inside.column);
        }
        if (peek().type != Tok::rbracket)
          throw ExpressionSyntaxError("expected ']', found " + describe(peek()), peek().column);
        end_column = take().column + 1;
      }
      if (seg.is_index) names_done = true;
      if (!names_done) ref.names.push_back(seg.name);
      node->path.push_back(std::move(seg));
    }
    ref.text = text_.substr(static_cast<size_t>(ref.column - 1 - offset_),
                            static_cast<size_t>(end_column - ref.column));
    node->text = ref.text;
    refs_.push_back(ref);
    return node;
  }

  const std::string& text_;
  int offset_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::vector<ExpressionReference>& refs_;
};

// A JSON document inside a string (agents often answer JSON as text, sometimes in a ``` fence).
std::optional<Json> parse_embedded_json(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return std::nullopt;
  size_t end = text.find_last_not_of(" \t\r\n") + 1;
  std::string body = text.substr(begin, end - begin);
  if (body.rfind("```", 0) == 0 && body.size() >= 6 && body.compare(body.size() - 3, 3, "```") == 0) {
    size_t newline = body.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    body = body.substr(newline + 1, body.size() - 3 - (newline + 1));
  }
  if (body.empty() || (body.front() != '{' && body.front() != '[')) return std::nullopt;
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_structured()) return std::nullopt;
  return parsed;
}

std::optional<Json> resolve_segments(const std::vector<Segment>& path, const Json& scope) {
  static const char* const roots[] = {"inputs", "outputs", "iterations"};
  const std::string& first = path.front().name;
  Json current;
  bool is_root = false;
  for (const char* root : roots) is_root = is_root || first == root;
  if (is_root) {
    if (!scope.is_object() || !scope.contains(first)) return std::nullopt;
    current = scope[first];
  } else if (scope.is_object() && scope.contains("inputs") && scope["inputs"].is_object() &&
             scope["inputs"].contains(first)) {
    current = scope["inputs"][first];
  } else if (scope.is_object() && scope.contains("outputs") && scope["outputs"].is_object() &&
             scope["outputs"].contains(first)) {
    current = scope["outputs"][first];
  } else {
    return std::nullopt;
  }
  for (size_t i = 1; i < path.size(); ++i) {
    if (current.is_string()) {
      auto embedded = parse_embedded_json(current.get<std::string>());
      if (!embedded) return std::nullopt;
      current = std::move(*embedded);
    }
    const Segment& seg = path[i];
    if (seg.is_index) {
      if (!current.is_array()) return std::nullopt;
      long long size = static_cast<long long>(current.size());
      long long index = seg.index < 0 ? size + seg.index : seg.index;
      if (index < 0 || index >= size) return std::nullopt;
      Json next = current[static_cast<size_t>(index)];
      current = std::move(next);
    } else {
      if (!current.is_object() || !current.contains(seg.name)) return std::nullopt;
      Json next = current[seg.name];
      current = std::move(next);
    }
  }
  return current;
}

std::string type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

std::string shown(const Json& v) {
  std::string text = v.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return type_name(v) + " " + text;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

Json evaluate_node(const Node& node, const Json& scope);

Json compare(const std::string& op, const Json& a, const Json& b) {
  if (op == "==" || op == "!=") {
    bool equal = (a.is_number() && b.is_number()) ? a.get<double>() == b.get<double>() : a == b;
    return op == "==" ? equal : !equal;
  }
  int order;
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    order = x < y ? -1 : (x > y ? 1 : 0);
  } else if (a.is_string() && b.is_string()) {
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    throw ExpressionEvalError("cannot compare " + shown(a) + " " + op + " " + shown(b) +
                              " (only two numbers or two strings can be ordered)");
  }
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  return order >= 0;
}

Json call(const std::string& name, const std::vector<Json>& args) {
  const Json& a = args[0];
  if (name == "len") {
    if (a.is_null()) return 0;
    if (a.is_string()) return utf8_length(a.get<std::string>());
    if (a.is_structured()) return a.size();
    throw ExpressionEvalError("len() takes a string, array or object, got " + shown(a));
  }
  if (name == "lower") {
    if (a.is_null()) return nullptr;
    if (!a.is_string()) throw ExpressionEvalError("lower() takes a string, got " + shown(a));
    std::string s = a.get<std::string>();
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  // contains(a, b)
  const Json& b = args[1];
  if (a.is_null()) return false;
  if (a.is_string()) {
    if (!b.is_string()) throw ExpressionEvalError("contains(string, x) needs a string x, got " + shown(b));
    return a.get_ref<const std::string&>().find(b.get_ref<const std::string&>()) != std::string::npos;
  }
  if (a.is_array()) {
    for (const auto& item : a)
      if (item == b || (item.is_number() && b.is_number() && item.get<double>() == b.get<double>())) return true;
    return false;
  }
  if (a.is_object()) {
    if (!b.is_string()) throw ExpressionEvalError("contains(object, key) needs a string key, got " + shown(b));
    return a.contains(b.get<std::string>());
  }
  throw ExpressionEvalError("contains() takes a string, array or object first, got " + shown(a));
}

Json evaluate_node(const Node& node, const Json& scope) {
  switch (node.type) {
    case Node::Type::literal: return node.value;
    case Node::Type::path: {
      auto value = resolve_segments(node.path, scope);
      return value ? *value : Json();
    }
    case Node::Type::negate: return !is_truthy(evaluate_node(*node.args[0], scope));
    case Node::Type::logical_and:
      return is_truthy(evaluate_node(*node.args[0], scope)) && is_truthy(evaluate_node(*node.args[1], scope));
    case Node::Type::logical_or:
      return is_truthy(evaluate_node(*node.args[0], scope)) || is_truthy(evaluate_node(*node.args[1], scope));
    case Node::Type::compare:
      return compare(node.op, evaluate_node(*node.args[0], scope), evaluate_node(*node.args[1], scope));
    case Node::Type::call: {
      std::vector<Json> args;
      for (const auto& arg : node.args) args.push_back(evaluate_node(*arg, scope));
      return call(node.op, args);
    }
  }
  return Json();
}

std::string as_text(const Json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Walks a template; calls on_text for literal text and on_reference for each {path}.
template <typename OnText, typename OnReference>
void scan_template(const std::string& text, OnText on_text, OnReference on_reference) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      on_text("{");
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      on_text("}");
      i += 2;
    } else if (c == '{' && i + 1 < text.size() && is_name_start(text[i + 1])) {
      size_t close = text.find('}', i + 1);
      size_t newline = text.find('\n', i + 1);
      if (close == std::string::npos || (newline != std::string::npos && newline < close))
        throw ExpressionSyntaxError("'{' starts a reference that is not closed with '}' on the same line; write "
                                    "{{ for a literal brace",
                                    static_cast<int>(i) + 1);
      std::string inner = text.substr(i + 1, close - i - 1);
      std::vector<ExpressionReference> refs;
      Parser parser(inner, static_cast<int>(i) + 1, refs);
      NodePtr node;
      try {
        node = parser.parse_path_only();
      } catch (const ExpressionSyntaxError& e) {
        throw ExpressionSyntaxError("in {" + inner + "}: " + e.problem() + " (a reference is a path such as "
                                    "{topic} or {outputs.review.verdict}; write {{ for a literal brace)",
                                    e.column());
      }
      on_reference(*node, refs.front());
      i = close + 1;
    } else {
      on_text(std::string(1, c));
      ++i;
    }
  }
}

}  // namespace

Expression Expression::parse(const std::string& text) {
  Expression expression;
  expression.text_ = text;
  Parser parser(text, 0, expression.references_);
  expression.root_ = parser.parse_expression();
  return expression;
}

Json Expression::evaluate(const Json& scope) const {
  if (!root_) return Json();
  try {
    return evaluate_node(*root_, scope);
  } catch (const ExpressionEvalError& e) {
    throw ExpressionEvalError("`" + text_ + "`: " + e.what());
  }
}

bool Expression::holds(const Json& scope) const { return is_truthy(evaluate(scope)); }

bool is_truthy(const Json& value) {
  if (value.is_null()) return false;
  if (value.is_boolean()) return value.get<bool>();
  if (value.is_number_integer()) return value.get<long long>() != 0;
  if (value.is_number_unsigned()) return value.get<unsigned long long>() != 0;
  if (value.is_number_float()) return value.get<double>() != 0.0;
  if (value.is_string()) return !value.get_ref<const std::string&>().empty();
  return !value.empty();
}

std::optional<Json> resolve_path(const std::string& path, const Json& scope) {
  std::vector<ExpressionReference> refs;
  Parser parser(path, 0, refs);
  NodePtr node = parser.parse_path_only();
  return resolve_segments(node->path, scope);
}

std::string interpolate(const std::string& text, const Json& scope) {
  std::string out;
  out.reserve(text.size());
  scan_template(
      text, [&](const std::string& literal) { out.append(literal); },
      [&](const Node& node, const ExpressionReference& ref) {
        auto value = resolve_segments(node.path, scope);
        if (!value)
          throw ExpressionEvalError("{" + ref.text + "} does not resolve: no input, step output or value at '" +
                                    ref.text + "'");
        out.append(as_text(*value));
      });
  return out;
}

std::vector<ExpressionReference> template_references(const std::string& text) {
  std::vector<ExpressionReference> out;
  scan_template(
      text, [](const std::string&) {}, [&](const Node&, const ExpressionReference& ref) { out.push_back(ref); });
  return out;
}

}  // namespace chorus::runtime
