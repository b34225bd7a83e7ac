#pragma once
// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) that replays scripted responses and records requests.
// Creating one clears the http(s)_proxy variables of this process, so its clients (and children) reach it.
//
//   ReplayHttpServer server;
//   server.route("GET", "/api/query", {ReplayResponse::text(429, "slow down").with_header("Retry-After", "1"),
//                                      ReplayResponse::file(200, "arxiv-feed.xml", "application/atom+xml")});
//   ... client calls server.url("/api/query") ...
//   EXPECT_EQ(server.requests().size(), 2u);
//
// Each connection carries one request and is closed after the answer (Connection: close).
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::testing {

// One piece of a streamed (chunked) body, written after waiting `delay`.
struct ReplayChunk {
  std::string data;
  std::chrono::milliseconds delay{0};
};

// What the server does with one request.
struct ReplayResponse {
  enum class Mode {
    complete,  // status, headers, Content-Length, body
    drop,      // close the connection without answering
    partial,   // announce the whole body's Content-Length, send partial_bytes of it, close
    chunked,   // Transfer-Encoding: chunked, one chunk per entry of `chunks`, each after its delay
  };
  Mode mode = Mode::complete;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait before answering (or dropping)
  std::size_t partial_bytes = 0;       // partial mode only
  std::vector<ReplayChunk> chunks;     // chunked mode only

  // A complete response with an inline body.
  static ReplayResponse text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // A complete JSON response.
  static ReplayResponse json(int status, std::string body);
  // A complete response whose body is tests/data/http/<name>; throws when the file cannot be read.
  static ReplayResponse file(int status, const std::string& name, std::string content_type);
  // A redirect to `location` (absolute or relative).
  static ReplayResponse redirect(int status, std::string location);
  // Closes the connection after reading the request, without a byte of answer.
  static ReplayResponse dropped();
  // Sends the headers for all of `body` but only its first `bytes_sent` bytes, then closes.
  static ReplayResponse partial(std::string body, std::size_t bytes_sent, std::string content_type = "text/plain");
  // Streams `chunks` with chunked transfer encoding (e.g. server-sent events).
  static ReplayResponse stream(std::vector<ReplayChunk> chunks, std::string content_type = "text/event-stream");

  // A copy with one more response header.
  ReplayResponse with_header(std::string name, std::string value) const;
  // A copy that waits `wait` before answering.
  ReplayResponse after(std::chrono::milliseconds wait) const;
};

// A request as the server received it.
struct RecordedRequest {
  std::string method;                                      // "GET"
  std::string target;                                      // "/search?q=a%20b" as sent
  std::string path;                                        // "/search" (still encoded)
  std::string query;                                       // "q=a%20b" (still encoded, no '?')
  std::vector<std::pair<std::string, std::string>> params; // query decoded ('+' and %XX), in order
  std::map<std::string, std::string> headers;              // lowercased names
  std::string body;
  std::chrono::steady_clock::time_point received;          // when the request was complete

  // First decoded value of query parameter `name`, or "".
  std::string param(std::string_view name) const;
  // Whether query parameter `name` was sent.
  bool has_param(std::string_view name) const;
  // Header value (name in any case), or "".
  std::string header(std::string_view name) const;
};

// Decodes %XX and '+' (as space) in a query component.
std::string url_decode(std::string_view text);

class ReplayHttpServer {
 public:
  // Binds 127.0.0.1 on an ephemeral port and starts serving; throws std::runtime_error on failure.
  ReplayHttpServer();
  // Stops serving and joins every thread (pending delays are cut short).
  ~ReplayHttpServer();
  ReplayHttpServer(const ReplayHttpServer&) = delete;
  ReplayHttpServer& operator=(const ReplayHttpServer&) = delete;

  // The bound port.
  int port() const;
  // "http://127.0.0.1:<port>".
  std::string base_url() const;
  // base_url() + path.
  std::string url(std::string_view path) const;

  // Answers `method` `path` requests whose decoded query contains every pair of `query_match` with
  // `responses` in order; once they run out the last one repeats. Routes are tried in the order added.
  // Unmatched requests get 404 "no replay route".
  void route(std::string method, std::string path, std::vector<ReplayResponse> responses,
             std::vector<std::pair<std::string, std::string>> query_match = {});
  // Every request received so far, in arrival order.
  std::vector<RecordedRequest> requests() const;
  // How many requests were received so far.
  std::size_t request_count() const;
  // Stops the server (idempotent); the destructor calls it.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::testing
