#pragma once
// Jinja templates: compile once (lex + parse + check filter/test names), render many times.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "inference/jinja-lexer.h"
#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

struct Stmt;

// A compiled template; copies share the compiled tree.
class Template {
 public:
  // Compiles `source`; throws TemplateError (line:column) for syntax errors, unknown filters and tests.
  explicit Template(const std::string& source, const LexerOptions& options = {});
  // Renders with these variables on top of the builtin globals; throws TemplateError or TemplateRaisedError.
  std::string render(const Dict& variables) const;
  // Renders with the members of a JSON object as variables.
  std::string render(const nlohmann::ordered_json& variables) const;

 private:
  std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> body_;
};

}  // namespace chorus::inference::jinja
