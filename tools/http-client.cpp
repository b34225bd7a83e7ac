#include "tools/http-client.h"

#include "tools/text-util.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

namespace chorus::tools {

namespace {

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}


long env_long(const char* name, long fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  long parsed = 0;
  std::string_view text(value);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  return (ec == std::errc() && end == text.data() + text.size() && parsed >= 0) ? parsed : fallback;
}

std::string plural(long n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

using CurlPtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlUrlPtr = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;
using CurlListPtr = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// One response as received by one transfer (no redirect following, no status interpretation).
struct RawResponse {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool truncated = false;
};

struct BodySink {
  std::string* body;
  std::size_t limit;
  bool truncate;
  bool overflow = false;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * count;
  if (sink->body->size() + n > sink->limit) {
    sink->overflow = true;
    if (sink->truncate) sink->body->append(data, sink->limit - sink->body->size());
    return 0;  // aborts the transfer
  }
  sink->body->append(data, n);
  return n;
}

size_t write_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue)
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = ascii_lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  auto [it, inserted] = headers->emplace(name, value);
  if (!inserted) it->second += ", " + value;
  return n;
}

bool is_redirect(long status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }
// 501 Not Implemented and 505 are answers, not transient failures (Wolfram|Alpha uses 501 for "no answer").
bool is_retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}
bool is_retryable_kind(HttpErrorKind kind) { return kind == HttpErrorKind::timeout || kind == HttpErrorKind::connection; }

std::string status_text(long status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

// One transfer of `url` with the options' limits; throws HttpError on transport failures.
RawResponse perform(const std::string& url, const std::string& host, const HttpHeaders& extra,
                    const HttpOptions& options) {
  CurlPtr curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw HttpError(HttpErrorKind::connection, host, "could not create a libcurl handle for " + host);
  RawResponse out;
  BodySink sink{&out.body, options.max_response_bytes, options.truncate_oversize};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_slist* header_list = nullptr;
  for (const auto& [name, value] : extra)
    if (curl_slist* next = curl_slist_append(header_list, (name + ": " + value).c_str())) header_list = next;
  CurlListPtr list(header_list, curl_slist_free_all);
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are followed by hand, host by host
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, write_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &out.headers);
  if (!options.truncate_oversize)
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_response_bytes));
  if (list) curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());

  const CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  const std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  const std::string limit = std::to_string(options.max_response_bytes) + " bytes";
  if (rc == CURLE_WRITE_ERROR && sink.overflow) {
    if (!options.truncate_oversize)
      throw HttpError(HttpErrorKind::too_large, host, "response from " + host + " is larger than the limit of " + limit);
    out.truncated = true;
    return out;
  }
  switch (rc) {
    case CURLE_OK: return out;
    case CURLE_OPERATION_TIMEDOUT:
      throw HttpError(HttpErrorKind::timeout, host,
                      "request to " + host + " timed out after " + std::to_string(options.timeout_ms) + " ms (" +
                          detail + ")");
    case CURLE_FILESIZE_EXCEEDED:
      throw HttpError(HttpErrorKind::too_large, host, "response from " + host + " is larger than the limit of " + limit);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      throw HttpError(HttpErrorKind::invalid_url, host, "cannot request " + host + ": " + detail);
    default:
      throw HttpError(HttpErrorKind::connection, host, "connection to " + host + " failed: " + detail);
  }
}

// How long to wait before retry number `retry` (0-based), honouring a Retry-After in seconds.
std::chrono::milliseconds retry_delay(const HttpOptions& options, int retry, const std::string& retry_after) {
  long seconds = 0;
  std::string_view text = trim(retry_after);
  if (!text.empty()) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec == std::errc() && end == text.data() + text.size() && seconds >= 0)
      return std::chrono::milliseconds(std::min(seconds * 1000, options.max_retry_after_ms));
  }
  long delay = options.backoff_ms;
  for (int i = 0; i < retry && delay < options.max_retry_after_ms; ++i) delay *= 2;
  return std::chrono::milliseconds(delay);
}

void check_target(const UrlParts& parts, const HttpOptions& options, const std::string& what) {
  if (parts.scheme != "http" && parts.scheme != "https")
    throw HttpError(HttpErrorKind::invalid_url, parts.host,
                    what + " uses scheme '" + parts.scheme + "'; only http and https are allowed");
  if (!host_allowed(parts.host, options.allowed_hosts))
    throw HttpError(HttpErrorKind::host_not_allowed, parts.host, what + " refused: host " + parts.host +
                                                                     " is not in the allowed hosts list");
}

}  // namespace

const char* to_string(HttpErrorKind kind) {
  switch (kind) {
    case HttpErrorKind::invalid_url: return "invalid_url";
    case HttpErrorKind::host_not_allowed: return "host_not_allowed";
    case HttpErrorKind::timeout: return "timeout";
    case HttpErrorKind::connection: return "connection";
    case HttpErrorKind::too_large: return "too_large";
    case HttpErrorKind::http_status: return "http_status";
  }
  return "connection";
}

HttpError::HttpError(HttpErrorKind kind, std::string host, const std::string& message, int status, std::string body)
    : std::runtime_error(message), kind_(kind), host_(std::move(host)), status_(status), body_(std::move(body)) {}

HttpOptions http_options_from_environment() {
  HttpOptions options;
  options.timeout_ms = env_long("CHORUS_HTTP_TIMEOUT_MS", options.timeout_ms);
  options.connect_timeout_ms = env_long("CHORUS_HTTP_CONNECT_TIMEOUT_MS", options.connect_timeout_ms);
  options.retries = static_cast<int>(std::min(env_long("CHORUS_HTTP_RETRIES", options.retries), 10L));
  if (const char* agent = std::getenv("CHORUS_HTTP_USER_AGENT"); agent && *agent) options.user_agent = agent;
  return options;
}

std::string HttpResponse::header(std::string_view name) const {
  auto it = headers.find(ascii_lower(name));
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) { ensure_curl_initialised(); }

HttpResponse HttpClient::get(const std::string& url, const QueryParams& query, const HttpHeaders& headers) const {
  const auto start = std::chrono::steady_clock::now();
  const std::string full_url = build_url(url, query);
  const UrlParts first = parse_url(full_url);
  check_target(first, options_, "request to " + first.host);

  const int attempts = 1 + std::max(0, options_.retries);
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt == attempts;
    std::string current = full_url;
    std::string host = first.host;
    RawResponse raw;
    try {
      for (int redirects = 0;; ++redirects) {
        raw = perform(current, host, headers, options_);
        const std::string location = raw.headers.count("location") ? raw.headers["location"] : "";
        if (!is_redirect(raw.status) || location.empty()) break;
        if (redirects == options_.max_redirects)
          throw HttpError(HttpErrorKind::http_status, host,
                          "request to " + first.host + " stopped after " + plural(options_.max_redirects, "redirect"),
                          static_cast<int>(raw.status));
        const std::string next = resolve_url(current, location);
        const UrlParts parts = parse_url(next);
        check_target(parts, options_, "redirect from " + host + " to " + parts.host);
        current = next;
        host = parts.host;
      }
    } catch (const HttpError& e) {
      if (!is_retryable_kind(e.kind())) throw;
      if (last)
        throw HttpError(e.kind(), e.host(),
                        std::string(e.what()) + (attempts > 1 ? " (after " + plural(attempts, "attempt") + ")" : ""));
      std::this_thread::sleep_for(retry_delay(options_, attempt - 1, ""));
      continue;
    }
    if (is_retryable_status(raw.status) && !last) {
      std::this_thread::sleep_for(retry_delay(options_, attempt - 1, raw.headers["retry-after"]));
      continue;
    }
    if (raw.status >= 400) {
      std::string message = "request to " + host + " failed: HTTP " + std::to_string(raw.status);
      if (const std::string text = status_text(raw.status); !text.empty()) message += " " + text;
      if (attempt > 1) message += " (after " + plural(attempt, "attempt") + ")";
      throw HttpError(HttpErrorKind::http_status, host, message, static_cast<int>(raw.status), std::move(raw.body));
    }
    HttpResponse response;
    response.status = static_cast<int>(raw.status);
    response.headers = std::move(raw.headers);
    response.body = std::move(raw.body);
    response.final_url = current;
    response.truncated = raw.truncated;
    response.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return response;
  }
}

UrlParts parse_url(const std::string& url) {
  ensure_curl_initialised();
  CurlUrlPtr handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    throw HttpError(HttpErrorKind::invalid_url, "", "'" + url + "' is not a valid absolute URL");
  auto part = [&](CURLUPart which, unsigned flags = 0) {
    char* value = nullptr;
    std::string out;
    if (curl_url_get(handle.get(), which, &value, flags) == CURLUE_OK && value) out = value;
    curl_free(value);
    return out;
  };
  UrlParts parts;
  parts.scheme = ascii_lower(part(CURLUPART_SCHEME));
  parts.host = ascii_lower(part(CURLUPART_HOST));
  if (parts.host.size() > 1 && parts.host.front() == '[' && parts.host.back() == ']')
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  const std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::from_chars(port.data(), port.data() + port.size(), parts.port);
  parts.path = part(CURLUPART_PATH);
  if (parts.path.empty()) parts.path.push_back('/');
  parts.query = part(CURLUPART_QUERY);
  return parts;
}

std::string resolve_url(const std::string& base, const std::string& reference) {
  ensure_curl_initialised();
  CurlUrlPtr handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(handle.get(), CURLUPART_URL, reference.c_str(), 0) != CURLUE_OK)
    throw HttpError(HttpErrorKind::invalid_url, "", "cannot resolve '" + reference + "' against '" + base + "'");
  char* value = nullptr;
  std::string out;
  if (curl_url_get(handle.get(), CURLUPART_URL, &value, 0) == CURLUE_OK && value) out = value;
  curl_free(value);
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

std::string build_url(const std::string& base, const QueryParams& query) {
  std::string out = base;
  bool has_query = out.find('?') != std::string::npos;
  for (const auto& [key, value] : query) {
    if (!has_query)
      out += '?';
    else if (out.back() != '?' && out.back() != '&')
      out += '&';
    has_query = true;
    out += url_encode(key) + "=" + url_encode(value);
  }
  return out;
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allowed_hosts) {
  if (allowed_hosts.empty()) return true;
  const std::string h = ascii_lower(host);
  for (const std::string& entry : allowed_hosts) {
    const std::string e = ascii_lower(trim(entry));
    if (e == "*" || e == h) return true;
    if (e.size() > 2 && e.starts_with("*.") && h.size() > e.size() - 1 && h.ends_with(e.substr(1))) return true;
  }
  return false;
}

std::vector<std::string> split_host_list(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(ascii_lower(item));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace chorus::tools
