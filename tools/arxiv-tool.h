#pragma once
// arxiv_search: searches arXiv through its Atom API ({base}/api/query) and returns parsed entries.
//
// Environment (ArxivOptions::from_environment):
//   CHORUS_ARXIV_URL   base URL of the API (default https://export.arxiv.org)
//   CHORUS_HTTP_*      timeouts, retries and user agent (see tools/http-client.h)
#include "tools/http-client.h"
#include "tools/tool.h"

#include <string>
#include <string_view>

namespace chorus::tools {

// Where and how arxiv_search connects.
struct ArxivOptions {
  std::string base_url = "https://export.arxiv.org";  // the API lives at {base_url}/api/query
  HttpOptions http;                                   // timeouts, retries, size limit
  // The defaults overridden by CHORUS_ARXIV_URL and the CHORUS_HTTP_* variables.
  static ArxivOptions from_environment();
};

// The arxiv_search tool: args {query, max_results 1..50 (5), start (0), sort_by, sort_order}.
Tool make_arxiv_tool(ArxivOptions options);

// Parses an arXiv Atom feed into {total_results, start_index, entries: [...]}; throws ToolError on
// malformed XML, a document that is not a feed, or an arXiv error entry (its message is included).
nlohmann::json parse_arxiv_feed(std::string_view xml);

}  // namespace chorus::tools
