// Formatting of TemplateError messages.
#include "inference/jinja-error.h"

namespace chorus::inference::jinja {

TemplateError::TemplateError(SourcePos pos, const std::string& problem)
    : std::runtime_error(std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + problem),
      pos_(pos),
      problem_(problem) {}

}  // namespace chorus::inference::jinja
