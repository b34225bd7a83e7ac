#pragma once
// The network tools: arxiv_search, wolfram_alpha, web_search and http_fetch.
#include "tools/tool-registry.h"

namespace chorus::tools {

// Adds the four network tools, each configured by its Options::from_environment() (see their headers).
void register_web_tools(ToolRegistry& registry);

}  // namespace chorus::tools
