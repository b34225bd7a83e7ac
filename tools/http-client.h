#pragma once
// A small blocking HTTP GET client over libcurl: timeouts, retries with backoff, size limit, host allowlist.
//
// Environment read by http_options_from_environment() (shared by the network tools):
//   CHORUS_HTTP_TIMEOUT_MS          whole-request time limit per attempt (default 15000)
//   CHORUS_HTTP_CONNECT_TIMEOUT_MS  connection time limit (default 5000)
//   CHORUS_HTTP_RETRIES             retries after a timeout, connection error, 429 or 5xx (default 2)
//   CHORUS_HTTP_USER_AGENT          User-Agent header (default "chorus/<version>")
#include <chrono>
#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::tools {

// How requests are made and limited.
struct HttpOptions {
  long timeout_ms = 15000;                     // per attempt, connection included
  long connect_timeout_ms = 5000;              // TCP (and TLS) connection only
  int retries = 2;                             // extra attempts after timeouts, connection errors, 408, 429,
                                               // 500, 502, 503, 504 (not 501: an answer, not a hiccup)
  long backoff_ms = 250;                       // first retry delay; doubles on each retry
  long max_retry_after_ms = 10000;             // cap on a server's Retry-After delay
  std::size_t max_response_bytes = 8u << 20;   // body size limit (decoded bytes)
  bool truncate_oversize = false;              // true: keep the first max_response_bytes and set truncated
  std::string user_agent = "chorus/0.1";       // User-Agent header
  std::vector<std::string> allowed_hosts;      // empty or "*": any; "host" exact, "*.host" any subdomain
  int max_redirects = 5;                       // redirects followed (each target host is checked)
};

// Reads the CHORUS_HTTP_* variables listed above over the defaults of HttpOptions.
HttpOptions http_options_from_environment();

// What went wrong with a request.
enum class HttpErrorKind { invalid_url, host_not_allowed, timeout, connection, too_large, http_status };

// "invalid_url", "host_not_allowed", "timeout", "connection", "too_large", "http_status".
const char* to_string(HttpErrorKind kind);

// A failed request; the message names the host and what happened.
class HttpError : public std::runtime_error {
 public:
  // `message` is the whole text of what(); status and body only for http_status.
  HttpError(HttpErrorKind kind, std::string host, const std::string& message, int status = 0, std::string body = {});
  HttpErrorKind kind() const { return kind_; }       // the category of failure
  const std::string& host() const { return host_; }  // host of the URL that failed
  int status() const { return status_; }             // HTTP status for http_status, else 0
  const std::string& body() const { return body_; }  // response body for http_status (size-limited)

 private:
  HttpErrorKind kind_;
  std::string host_;
  int status_;
  std::string body_;
};

// A response that arrived (status < 400, or a non-redirect 3xx).
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names; repeated headers joined with ", "
  std::string body;
  std::string final_url;                       // after redirects
  bool truncated = false;                      // body cut at max_response_bytes (truncate_oversize only)
  double elapsed_ms = 0;                       // whole call: attempts, waits and redirects
  // The header's value, or "" when absent (name in any case).
  std::string header(std::string_view name) const;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // in order; values are raw (unencoded)
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;  // extra request headers

// Issues GET requests with the options' limits; safe to use from several threads at once.
class HttpClient {
 public:
  // Initialises libcurl once per process (thread-safe).
  explicit HttpClient(HttpOptions options = {});
  // GETs url + encoded query; throws HttpError on failure, including a final status >= 400.
  HttpResponse get(const std::string& url, const QueryParams& query = {}, const HttpHeaders& headers = {}) const;
  // The limits this client applies.
  const HttpOptions& options() const { return options_; }

 private:
  HttpOptions options_;
};

// The parts of an absolute URL, as parsed by libcurl.
struct UrlParts {
  std::string scheme;  // lowercased
  std::string host;    // lowercased, IPv6 without brackets
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "/" when absent
  std::string query;   // without '?', still encoded
};

// Parses an absolute URL; throws HttpError(invalid_url) when it is not one.
UrlParts parse_url(const std::string& url);
// Resolves `reference` (absolute or relative, as in a Location header) against `base`.
std::string resolve_url(const std::string& base, const std::string& reference);
// Percent-encodes everything except the unreserved characters A-Z a-z 0-9 - . _ ~ (space becomes %20).
std::string url_encode(std::string_view text);
// base plus "?k=v&..." (or "&k=v..." when base already has a query), keys and values url_encoded.
std::string build_url(const std::string& base, const QueryParams& query);
// Whether host matches the allowlist: empty or "*" allows any; "*.example.org" allows its subdomains.
bool host_allowed(std::string_view host, const std::vector<std::string>& allowed_hosts);
// Splits "a, b,c" into trimmed non-empty lowercased items (for allowlists in environment variables).
std::vector<std::string> split_host_list(std::string_view text);

}  // namespace chorus::tools
