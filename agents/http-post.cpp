#include "agents/http-post.h"

#include "tools/http-client.h"
#include "tools/text-util.h"

#include <curl/curl.h>

#include <chrono>
#include <exception>
#include <memory>
#include <mutex>

namespace chorus::agents {

namespace {

using Clock = std::chrono::steady_clock;
using tools::HttpError;
using tools::HttpErrorKind;

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const HttpPostRequest* request = nullptr;
  const HttpBodySink* sink = nullptr;
  HttpPostResult result;
  Clock::time_point last_byte = Clock::now();
  std::exception_ptr sink_error;  // thrown by the sink; rethrown after the transfer
  bool idle_expired = false;
  bool cancelled = false;  // request->cancel was seen requested
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->result.headers.clear();  // a new response (after 100 Continue)
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = tools::ascii_lower(tools::trim(line.substr(0, colon)));
  std::string value(tools::trim(line.substr(colon + 1)));
  auto [it, inserted] = t->result.headers.emplace(name, value);
  if (!inserted) it->second += ", " + value;
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->last_byte = Clock::now();
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    std::string& body = t->result.error_body;
    const std::size_t room = t->request->max_error_body_bytes - std::min(body.size(), t->request->max_error_body_bytes);
    body.append(data, std::min(n, room));
    return n;
  }
  try {
    (*t->sink)(std::string_view(data, n));
  } catch (...) {
    t->sink_error = std::current_exception();
    return 0;  // aborts the transfer
  }
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->cancel.stop_requested()) {
    t->cancelled = true;
    return 1;  // aborts the transfer
  }
  const long idle = t->request->idle_timeout_ms;
  if (idle > 0 && Clock::now() - t->last_byte > std::chrono::milliseconds(idle)) {
    t->idle_expired = true;
    return 1;  // aborts the transfer
  }
  return 0;
}

std::string host_of(const std::string& url) {
  try {
    return tools::parse_url(url).host;
  } catch (const HttpError&) {
    return url;
  }
}

}  // namespace

std::string HttpPostResult::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpPostResult http_post(const HttpPostRequest& request, const HttpBodySink& on_body_piece) {
  ensure_curl_initialised();
  const std::string host = host_of(request.url);
  const std::string cancelled_message = "request to " + host + " cancelled";
  if (request.cancel.stop_requested()) throw HttpCancelled(cancelled_message);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw HttpError(HttpErrorKind::connection, host, "could not create a libcurl handle for " + host);
  curl_slist* list = nullptr;
  auto add_header = [&list](const std::string& line) {
    if (curl_slist* next = curl_slist_append(list, line.c_str())) list = next;
  };
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);
  add_header("Expect:");  // no 100-continue round trip for large bodies
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(list, curl_slist_free_all);

  Transfer t;
  t.curl = curl.get();
  t.request = &request;
  t.sink = &on_body_piece;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  if (request.total_timeout_ms > 0) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.total_timeout_ms);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "chorus/0.1");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);

  // The multi interface, so that a stop request wakes the wait for socket activity at once (a progress
  // callback alone may come only once a second while the server is silent).
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(), curl_multi_cleanup);
  if (!multi) throw HttpError(HttpErrorKind::connection, host, "could not create a libcurl multi handle for " + host);
  CURLM* m = multi.get();
  if (const CURLMcode added = curl_multi_add_handle(m, h); added != CURLM_OK)
    throw HttpError(HttpErrorKind::connection, host,
                    "could not start the request to " + host + ": " + curl_multi_strerror(added));
  struct Detach {
    CURLM* m;
    CURL* h;
    ~Detach() { curl_multi_remove_handle(m, h); }
  } detach{m, h};
  std::stop_callback wake_on_cancel(request.cancel, [m] { curl_multi_wakeup(m); });

  CURLMcode mc = CURLM_OK;
  for (int running = 1;;) {
    mc = curl_multi_perform(m, &running);
    if (mc != CURLM_OK || running == 0) break;
    if (request.cancel.stop_requested()) {
      t.cancelled = true;
      break;
    }
    mc = curl_multi_poll(m, nullptr, 0, 1000, nullptr);
    if (mc != CURLM_OK) break;
  }
  CURLcode rc = CURLE_OK;
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &queued))
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) rc = msg->data.result;

  if (t.sink_error) std::rethrow_exception(t.sink_error);
  if (t.cancelled) throw HttpCancelled(cancelled_message);
  if (mc != CURLM_OK)
    throw HttpError(HttpErrorKind::connection, host,
                    "connection to " + host + " failed: " + curl_multi_strerror(mc));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.result.status);
  const std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  if (t.idle_expired)
    throw HttpError(HttpErrorKind::timeout, host,
                    "no data from " + host + " for " + std::to_string(request.idle_timeout_ms) + " ms");
  switch (rc) {
    case CURLE_OK: return std::move(t.result);
    case CURLE_OPERATION_TIMEDOUT:
      throw HttpError(HttpErrorKind::timeout, host, "request to " + host + " timed out (" + detail + ")");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      throw HttpError(HttpErrorKind::invalid_url, host, "cannot request '" + request.url + "': " + detail);
    default:
      throw HttpError(HttpErrorKind::connection, host, "connection to " + host + " failed: " + detail);
  }
}

}  // namespace chorus::agents
