#pragma once
// The built-in tools (calculator, calendar, arxiv_search, wolfram_alpha, web_search, http_fetch, python).
#include "tools/tool-registry.h"

namespace chorus::tools {

// A registry holding every built-in tool, configured from the environment (see docs/tools.md).
ToolRegistry make_builtin_registry();

}  // namespace chorus::tools
