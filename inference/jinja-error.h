#pragma once
// Errors of the Jinja engine: TemplateError (place + problem), TemplateRaisedError (the template's
// raise_exception).
#include <stdexcept>
#include <string>

namespace chorus::inference::jinja {

// A 1-based line:column place in the template source (columns count bytes).
struct SourcePos {
  int line = 1;
  int column = 1;
};

// A template that fails to lex, parse or render; what() is "line:column: problem".
class TemplateError : public std::runtime_error {
 public:
  TemplateError(SourcePos pos, const std::string& problem);
  // The place in the template source.
  SourcePos pos() const { return pos_; }
  // The problem without the place.
  const std::string& problem() const { return problem_; }

 private:
  SourcePos pos_;
  std::string problem_;
};

// The template itself called raise_exception(message); what() is exactly that message.
class TemplateRaisedError : public std::runtime_error {
 public:
  explicit TemplateRaisedError(const std::string& message) : std::runtime_error(message) {}
  // The template's message.
  std::string message() const { return what(); }
};

// A runtime problem not yet tied to a place (thrown by values and builtins; the interpreter adds the place).
class OperationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace chorus::inference::jinja
