#pragma once
// Workflow expressions: `when:` conditions and `{path}` interpolation in task texts (reference: docs/workflow-yaml.md).
// Evaluated against a JSON scope {"inputs": {...}, "outputs": {step: output}, "iterations": {step: n}}.
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::runtime {

// Text that is not a valid expression or template; column() is 1-based within that text.
class ExpressionSyntaxError : public std::runtime_error {
 public:
  ExpressionSyntaxError(const std::string& problem, int column);
  const std::string& problem() const { return problem_; }  // the message without the column
  int column() const { return column_; }

 private:
  std::string problem_;
  int column_;
};

// An expression that cannot be evaluated in a scope (a type error, an unresolved `{reference}`).
class ExpressionEvalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A path an expression or template reads, e.g. outputs.review.verdict -> names {"outputs","review","verdict"}.
struct ExpressionReference {
  std::vector<std::string> names;  // the leading member names, up to the first [index]
  std::string text;                // the path as written
  int column = 1;                  // 1-based column of the path in the expression or template
};

class Expression {
 public:
  // Parses a condition such as "outputs.review.verdict == 'revise' && iterations.draft < 3".
  static Expression parse(const std::string& text);
  // The expression's value in `scope`; unknown paths are null. Throws ExpressionEvalError on a type error.
  nlohmann::json evaluate(const nlohmann::json& scope) const;
  // Whether evaluate() is truthy (null, false, 0, "", [] and {} are false).
  bool holds(const nlohmann::json& scope) const;
  // Every path the expression reads, in written order.
  const std::vector<ExpressionReference>& references() const { return references_; }
  const std::string& text() const { return text_; }

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
  std::vector<ExpressionReference> references_;
};

// JSON truthiness: null, false, 0, "", [] and {} are false; everything else is true.
bool is_truthy(const nlohmann::json& value);

// The value at a dotted path such as "outputs.review.verdict" or "items[0]" (bare first names resolve to
// inputs.NAME, then outputs.NAME); nullopt when it does not exist. A JSON string met along the way that parses
// as an object or array is entered as that value.
std::optional<nlohmann::json> resolve_path(const std::string& path, const nlohmann::json& scope);

// Replaces every {path} in `text` with its value (strings as they are, other JSON dumped); {{ and }} are literal
// braces, and a { not followed by a name is literal. Throws ExpressionEvalError naming an unresolved reference,
// ExpressionSyntaxError for a malformed one.
std::string interpolate(const std::string& text, const nlohmann::json& scope);

// The {path} references in a template, in written order (for validation); throws ExpressionSyntaxError.
std::vector<ExpressionReference> template_references(const std::string& text);

}  // namespace chorus::runtime
