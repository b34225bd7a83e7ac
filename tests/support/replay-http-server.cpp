#include "tests/support/replay-http-server.h"

#include "tests/support/paths.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace chorus::testing {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kIdleLimit = std::chrono::seconds(5);  // a client that sends nothing this long is dropped

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const auto eq = item.find('=');
      out.emplace_back(url_decode(item.substr(0, eq)),
                       eq == std::string_view::npos ? std::string() : url_decode(item.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

struct Route {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query_match;
  std::vector<ReplayResponse> responses;
  std::size_t served = 0;
};

}  // namespace

std::string url_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// ReplayResponse ---------------------------------------------------------------------------------------

ReplayResponse ReplayResponse::text(int status, std::string body, std::string content_type) {
  ReplayResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

ReplayResponse ReplayResponse::json(int status, std::string body) {
  return text(status, std::move(body), "application/json");
}

ReplayResponse ReplayResponse::file(int status, const std::string& name, std::string content_type) {
  const auto path = test_data_dir() / "http" / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("replay server: cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return text(status, content.str(), std::move(content_type));
}

ReplayResponse ReplayResponse::redirect(int status, std::string location) {
  ReplayResponse r = text(status, "", "text/plain");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

ReplayResponse ReplayResponse::dropped() {
  ReplayResponse r;
  r.mode = Mode::drop;
  return r;
}

ReplayResponse ReplayResponse::partial(std::string body, std::size_t bytes_sent, std::string content_type) {
  ReplayResponse r = text(200, std::move(body), std::move(content_type));
  r.mode = Mode::partial;
  r.partial_bytes = bytes_sent;
  return r;
}

ReplayResponse ReplayResponse::stream(std::vector<ReplayChunk> chunks, std::string content_type) {
  ReplayResponse r = text(200, "", std::move(content_type));
  r.mode = Mode::chunked;
  r.chunks = std::move(chunks);
  return r;
}

ReplayResponse ReplayResponse::with_header(std::string name, std::string value) const {
  ReplayResponse copy = *this;
  copy.headers.emplace_back(std::move(name), std::move(value));
  return copy;
}

ReplayResponse ReplayResponse::after(std::chrono::milliseconds wait) const {
  ReplayResponse copy = *this;
  copy.delay = wait;
  return copy;
}

// RecordedRequest --------------------------------------------------------------------------------------

std::string RecordedRequest::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return "";
}

bool RecordedRequest::has_param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return true;
  return false;
}

std::string RecordedRequest::header(std::string_view name) const {
  auto it = headers.find(lowercase(name));
  return it == headers.end() ? "" : it->second;
}

// Server -----------------------------------------------------------------------------------------------

struct ReplayHttpServer::Impl {
  int listen_fd = -1;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::thread acceptor;
  mutable std::mutex mutex;  // guards routes, requests, connections
  std::condition_variable wake;
  std::vector<Route> routes;
  std::vector<RecordedRequest> requests;
  std::vector<std::thread> connections;

  // Sleeps up to `wait`; false when the server is stopping.
  bool pause(std::chrono::milliseconds wait) {
    if (wait.count() <= 0) return !stopping;
    std::unique_lock lock(mutex);
    return !wake.wait_for(lock, wait, [&] { return stopping.load(); });
  }

  static bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one request (headers and Content-Length body); false on EOF, idle timeout or stop.
  bool read_request(int fd, RecordedRequest& request) {
    std::string data;
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    auto last_activity = std::chrono::steady_clock::now();
    char buffer[8192];
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos && !parse_head(data.substr(0, header_end), request, content_length))
          return false;
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
        request.body = data.substr(header_end + 4, content_length);
        request.received = std::chrono::steady_clock::now();
        return true;
      }
      if (stopping || std::chrono::steady_clock::now() - last_activity > kIdleLimit) return false;
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(kPollInterval.count()));
      if (ready < 0 && errno != EINTR) return false;
      if (ready <= 0) continue;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      data.append(buffer, static_cast<std::size_t>(n));
      last_activity = std::chrono::steady_clock::now();
    }
  }

  static bool parse_head(const std::string& head, RecordedRequest& request, std::size_t& content_length) {
    std::istringstream lines(head);
    std::string line;
    if (!std::getline(lines, line)) return false;
    std::istringstream first(line);
    std::string version;
    first >> request.method >> request.target >> version;
    if (request.method.empty() || request.target.empty()) return false;
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    request.query = question == std::string::npos ? "" : request.target.substr(question + 1);
    request.params = parse_query(request.query);
    while (std::getline(lines, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      request.headers[lowercase(trim(std::string_view(line).substr(0, colon)))] =
          std::string(trim(std::string_view(line).substr(colon + 1)));
    }
    if (auto it = request.headers.find("content-length"); it != request.headers.end())
      content_length = std::stoul(it->second);
    return true;
  }

  // The scripted response for `request` (and records it).
  ReplayResponse pick(const RecordedRequest& request) {
    std::lock_guard lock(mutex);
    requests.push_back(request);
    for (Route& route : routes) {
      if (route.method != request.method || route.path != request.path) continue;
      bool match = true;
      for (const auto& [k, v] : route.query_match) {
        bool found = false;
        for (const auto& [rk, rv] : request.params) found = found || (rk == k && rv == v);
        match = match && found;
      }
      if (!match) continue;
      const std::size_t index = std::min(route.served++, route.responses.size() - 1);
      return route.responses[index];
    }
    return ReplayResponse::text(404, "no replay route for " + request.method + " " + request.target);
  }

  void answer(int fd, const ReplayResponse& response) {
    if (!pause(response.delay) || response.mode == ReplayResponse::Mode::drop) return;
    std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
    for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
    if (response.mode == ReplayResponse::Mode::chunked)
      head += "Transfer-Encoding: chunked\r\n";
    else
      head += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    head += "Connection: close\r\n\r\n";
    if (!send_all(fd, head)) return;
    switch (response.mode) {
      case ReplayResponse::Mode::complete:
        send_all(fd, response.body);
        break;
      case ReplayResponse::Mode::partial:
        send_all(fd, std::string_view(response.body).substr(0, response.partial_bytes));
        break;
      case ReplayResponse::Mode::chunked:
        for (const ReplayChunk& chunk : response.chunks) {
          if (!pause(chunk.delay)) return;
          if (chunk.data.empty()) continue;  // a zero-size chunk would end the body
          std::ostringstream size;
          size << std::hex << chunk.data.size();
          if (!send_all(fd, size.str() + "\r\n" + chunk.data + "\r\n")) return;
        }
        send_all(fd, "0\r\n\r\n");
        break;
      case ReplayResponse::Mode::drop:
        break;
    }
  }

  void serve(int fd) {
    RecordedRequest request;
    if (read_request(fd, request)) answer(fd, pick(request));
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }

  void accept_loop() {
    while (!stopping) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kPollInterval.count())) <= 0) continue;
      const int fd = ::accept(listen_fd, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard lock(mutex);
      connections.emplace_back([this, fd] { serve(fd); });
    }
  }
};

ReplayHttpServer::ReplayHttpServer() : impl_(std::make_unique<Impl>()) {
  // A proxy from the environment would swallow requests to 127.0.0.1, in this process and in the children
  // (chorus workers, tools) a test starts after creating the server.
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
    ::unsetenv(name);
  impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl_->listen_fd < 0) throw std::runtime_error(std::string("replay server: socket: ") + std::strerror(errno));
  const int yes = 1;
  ::setsockopt(impl_->listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(impl_->listen_fd, 64) != 0 ||
      ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(impl_->listen_fd);
    throw std::runtime_error("replay server: cannot listen on 127.0.0.1: " + why);
  }
  impl_->port = ntohs(address.sin_port);
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

ReplayHttpServer::~ReplayHttpServer() { stop(); }

void ReplayHttpServer::stop() {
  if (!impl_ || impl_->listen_fd < 0) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(impl_->mutex);
    connections.swap(impl_->connections);
  }
  for (std::thread& t : connections) t.join();
  ::close(impl_->listen_fd);
  impl_->listen_fd = -1;
}

int ReplayHttpServer::port() const { return impl_->port; }

std::string ReplayHttpServer::base_url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

std::string ReplayHttpServer::url(std::string_view path) const { return base_url() + std::string(path); }

void ReplayHttpServer::route(std::string method, std::string path, std::vector<ReplayResponse> responses,
                             std::vector<std::pair<std::string, std::string>> query_match) {
  if (responses.empty()) throw std::invalid_argument("replay server: a route needs at least one response");
  std::lock_guard lock(impl_->mutex);
  impl_->routes.push_back(Route{std::move(method), std::move(path), std::move(query_match), std::move(responses)});
}

std::vector<RecordedRequest> ReplayHttpServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t ReplayHttpServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests.size();
}

}  // namespace chorus::testing
