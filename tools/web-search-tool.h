#pragma once
// web_search: searches the web through a SearXNG instance's JSON API ({base}/search?format=json).
//
// Environment (WebSearchOptions::from_environment):
//   CHORUS_SEARXNG_URL  base URL of a SearXNG instance with the json format enabled (required; no default)
//   CHORUS_HTTP_*       timeouts, retries and user agent (see tools/http-client.h)
#include "tools/http-client.h"
#include "tools/tool.h"

#include <string>
#include <string_view>

namespace chorus::tools {

// Where and how web_search connects.
struct WebSearchOptions {
  std::string base_url;  // e.g. http://localhost:8888; empty: every call fails, naming CHORUS_SEARXNG_URL
  HttpOptions http;      // timeouts, retries, size limit
  // The defaults overridden by CHORUS_SEARXNG_URL and the CHORUS_HTTP_* variables.
  static WebSearchOptions from_environment();
};

// The web_search tool: args {query, max_results 1..20 (5), page (1), language?, categories?};
// result {query, number_of_results, results: [{title, url, content, engine}], answers, suggestions}.
Tool make_web_search_tool(WebSearchOptions options);

// Parses a SearXNG JSON body into the tool's result, keeping the first max_results results;
// throws ToolError when the body is not JSON or has no results array.
nlohmann::json parse_searxng_results(std::string_view body, int max_results);

}  // namespace chorus::tools
