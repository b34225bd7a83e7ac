#include "tools/web-tools.h"

#include "tools/arxiv-tool.h"
#include "tools/http-fetch-tool.h"
#include "tools/web-search-tool.h"
#include "tools/wolfram-alpha-tool.h"

namespace chorus::tools {

void register_web_tools(ToolRegistry& registry) {
  registry.add(make_arxiv_tool(ArxivOptions::from_environment()));
  registry.add(make_wolfram_alpha_tool(WolframAlphaOptions::from_environment()));
  registry.add(make_web_search_tool(WebSearchOptions::from_environment()));
  registry.add(make_http_fetch_tool(HttpFetchOptions::from_environment()));
}

}  // namespace chorus::tools
