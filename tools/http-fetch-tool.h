#pragma once
// http_fetch: GETs one http(s) URL from an allowlisted host and returns its readable text.
// HTML becomes text (tools/html-text.h) plus its title; other text types and JSON come back as sent;
// binary types are refused. Bodies over the size limit are cut, marked, and flagged truncated:true.
//
// Environment (HttpFetchOptions::from_environment):
//   CHORUS_HTTP_FETCH_ALLOW      comma-separated host names the tool may fetch from; "*.example.org" allows
//                                subdomains, "*" allows any host. Unset or empty: fetching is refused (default).
//   CHORUS_HTTP_FETCH_MAX_BYTES  body size limit in bytes (default 2097152 = 2 MiB)
//   CHORUS_HTTP_*                timeouts, retries and user agent (see tools/http-client.h)
#include "tools/http-client.h"
#include "tools/tool.h"

#include <cstddef>
#include <string>
#include <vector>

namespace chorus::tools {

// What http_fetch may fetch and how.
struct HttpFetchOptions {
  std::vector<std::string> allowed_hosts;  // empty: refuse every URL; "*": any host (redirect targets too)
  std::size_t max_bytes = 2u << 20;        // body bytes kept; the rest is cut and flagged
  HttpOptions http;                        // timeouts, retries (allowed_hosts and size are set from above)
  // The defaults overridden by CHORUS_HTTP_FETCH_ALLOW, CHORUS_HTTP_FETCH_MAX_BYTES and CHORUS_HTTP_*.
  static HttpFetchOptions from_environment();
};

// The http_fetch tool: args {url}; result {url, final_url, status, content_type, title?, text, bytes, truncated}.
Tool make_http_fetch_tool(HttpFetchOptions options);

}  // namespace chorus::tools
