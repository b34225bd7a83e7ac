#pragma once
// The builtin global functions of the Jinja environment.
#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// range, namespace, dict, joiner, cycler and raise_exception (which throws TemplateRaisedError).
Dict builtin_globals();

}  // namespace chorus::inference::jinja
