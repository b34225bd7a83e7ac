#pragma once
// A blocking HTTP POST over libcurl that hands a successful response's body to the caller as it arrives
// (for server-sent event streams) and collects an error response's body whole; a stop request ends it at once.
#include <cstddef>
#include <functional>
#include <map>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::agents {

// What to send and how long to wait.
struct HttpPostRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers, in order
  std::string body;
  long connect_timeout_ms = 10000;  // TCP (and TLS) connection
  long total_timeout_ms = 0;        // whole transfer; 0: no limit
  long idle_timeout_ms = 0;         // longest silence between received bytes; 0: no limit
  std::size_t max_error_body_bytes = 1u << 20;  // an error (non-2xx) body is kept up to this size
  std::stop_token cancel;                       // requested: the transfer is abandoned (HttpCancelled)
};

// Thrown by http_post when `cancel` is requested before or during the transfer.
class HttpCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What came back. For 2xx the body went to the sink instead of `error_body`.
struct HttpPostResult {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercased names; repeats joined with ", "
  std::string error_body;                      // non-2xx responses only
  // The header's value (name lowercase), or "".
  std::string header(const std::string& name) const;
};

// Receives a 2xx body piece by piece; an exception it throws aborts the transfer and leaves http_post.
using HttpBodySink = std::function<void(std::string_view piece)>;

// POSTs `request`; throws tools::HttpError (kind timeout or connection, or invalid_url) when the transfer fails,
// including a connection dropped before the whole body arrived, and HttpCancelled (within milliseconds) when
// request.cancel is requested. HTTP error statuses are returned, not thrown.
HttpPostResult http_post(const HttpPostRequest& request, const HttpBodySink& on_body);

}  // namespace chorus::agents
