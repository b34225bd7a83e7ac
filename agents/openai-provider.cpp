#include "agents/openai-provider.h"

#include "agents/http-post.h"
#include "agents/openai-wire.h"
#include "agents/sse-parser.h"
#include "tools/http-client.h"
#include "tools/text-util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

namespace chorus::agents {

namespace {

using nlohmann::json;

constexpr double kMaxRetryAfterS = 60;
constexpr std::size_t kMaxRawBodyBytes = 16u << 20;

// One attempt's failure, with the server's requested wait when it gave one.
class AttemptError : public LlmError {
 public:
  AttemptError(const std::string& message, bool retryable, std::optional<double> retry_after_s = std::nullopt)
      : LlmError(message, retryable), retry_after_s_(retry_after_s) {}
  std::optional<double> retry_after_s() const { return retry_after_s_; }

 private:
  std::optional<double> retry_after_s_;
};

bool is_retryable_status(long status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

std::string reason_phrase(long status) {
  switch (status) {
    case 400: return " Bad Request";
    case 401: return " Unauthorized";
    case 403: return " Forbidden";
    case 404: return " Not Found";
    case 408: return " Request Timeout";
    case 409: return " Conflict";
    case 413: return " Payload Too Large";
    case 422: return " Unprocessable Entity";
    case 429: return " Too Many Requests";
    case 500: return " Internal Server Error";
    case 502: return " Bad Gateway";
    case 503: return " Service Unavailable";
    case 504: return " Gateway Timeout";
    default: return "";
  }
}

std::optional<double> parse_seconds(std::string_view text) {
  text = tools::trim(text);
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const std::string copy(text);
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value) || value < 0) return std::nullopt;  // an HTTP date
  return value;
}

// retry-after-ms (OpenAI) or Retry-After in seconds; an HTTP date is ignored (backoff instead).
std::optional<double> retry_after_of(const HttpPostResult& result) {
  if (auto ms = parse_seconds(result.header("retry-after-ms"))) return std::min(*ms / 1000.0, kMaxRetryAfterS);
  if (auto s = parse_seconds(result.header("retry-after"))) return std::min(*s, kMaxRetryAfterS);
  return std::nullopt;
}

std::string snippet(const std::string& text) {
  constexpr std::size_t kLimit = 200;
  return text.size() > kLimit ? text.substr(0, kLimit) + "..." : text;
}

std::string plural(long long n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

OpenAiProvider::OpenAiProvider(OpenAiSettings settings) : settings_(std::move(settings)) {}

std::string OpenAiProvider::describe() const { return "openai:" + settings_.model; }

LlmResponse OpenAiProvider::complete(const LlmRequest& request, const LlmDeltaCallback& on_delta) {
  const auto start = std::chrono::steady_clock::now();
  const OpenAiSettings& s = settings_;
  const std::string url = s.base_url + "/chat/completions";
  const std::string where = "openai provider (model " + s.model + " at " + url + ")";

  HttpPostRequest post;
  post.url = url;
  post.body = openai_request_body(request, s, s.stream).dump(-1, ' ', false, json::error_handler_t::replace);
  post.headers.emplace_back("Content-Type", "application/json");
  post.headers.emplace_back("Accept", s.stream ? "text/event-stream" : "application/json");
  if (!s.api_key_env.empty()) {
    const char* key = std::getenv(s.api_key_env.c_str());
    if (!key || !*key)
      throw LlmError(where + ": the environment variable " + s.api_key_env + " (named by llm.api_key_env) is not set; " +
                         "export it with the API key, or remove llm.api_key_env for a server that needs no key",
                     false);
    post.headers.emplace_back("Authorization", std::string("Bearer ") + key);
  }
  if (!s.organization.empty()) post.headers.emplace_back("OpenAI-Organization", s.organization);
  for (const auto& [name, value] : s.extra_headers) post.headers.emplace_back(name, value);
  const long timeout_ms = std::max(1L, std::lround(s.timeout_s * 1000));
  post.connect_timeout_ms = std::min(timeout_ms, 30000L);
  (s.stream ? post.idle_timeout_ms : post.total_timeout_ms) = timeout_ms;
  post.cancel = request.cancel;

  // One request; throws AttemptError.
  auto attempt = [&]() -> LlmResponse {
    OpenAiStreamAssembler assembler;
    bool done = false;
    std::string raw;  // a non-streamed body, or a streamed one until its first event (a server that ignored stream)
    auto take_chunk = [&](const std::string& data) {
      const json chunk = json::parse(data, nullptr, false);
      if (chunk.is_discarded())
        throw AttemptError(where + ": the stream carried data that is not JSON: " + snippet(data), false);
      try {
        assembler.add_chunk(chunk, on_delta);
      } catch (const std::runtime_error& e) {
        throw AttemptError(where + ": " + e.what(), false);
      }
    };
    SseParser parser([&](const SseEvent& event) {
      if (done) return;
      if (tools::trim(event.data) == "[DONE]") {
        done = true;
        return;
      }
      if (json::accept(event.data) || event.data.find('\n') == std::string::npos) {
        take_chunk(event.data);
        return;
      }
      // Several data: lines without blank lines between them: one chunk per line.
      std::string_view rest(event.data);
      while (!rest.empty()) {
        const auto newline = rest.find('\n');
        const std::string_view line = tools::trim(rest.substr(0, newline));
        if (line == "[DONE]") done = true;
        else if (!line.empty() && !done) take_chunk(std::string(line));
        rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
      }
    });
    auto sink = [&](std::string_view piece) {
      if (!s.stream || parser.events_dispatched() == 0) {
        if (raw.size() + piece.size() > kMaxRawBodyBytes)
          throw AttemptError(where + ": the response is larger than " + std::to_string(kMaxRawBodyBytes >> 20) + " MiB",
                             false);
        raw.append(piece);
      }
      if (s.stream) parser.feed(piece);
    };

    HttpPostResult result;
    try {
      result = http_post(post, sink);
    } catch (const tools::HttpError& e) {
      // A connection lost after the model finished (only [DONE] or the usage chunk missing) loses nothing.
      if (s.stream && assembler.finished()) return assembler.result();
      const bool transient = e.kind() == tools::HttpErrorKind::timeout || e.kind() == tools::HttpErrorKind::connection;
      std::string message = where + ": " + e.what();
      if (!transient) message += "; check llm.base_url";
      throw AttemptError(message, transient);
    }

    const long status = result.status;
    if (status < 200 || status >= 300) {
      std::string message = where + ": HTTP " + std::to_string(status) + reason_phrase(status);
      if (const std::string why = openai_error_message(result.error_body); !why.empty()) message += ": " + why;
      if (status == 401 || status == 403)
        message += s.api_key_env.empty() ? " (the server wants a key: set llm.api_key_env to the variable holding it)"
                                         : " (check the key in $" + s.api_key_env + ")";
      else if (status == 404)
        message += " (check llm.base_url, usually ending in /v1, and llm.model)";
      throw AttemptError(message, is_retryable_status(status), retry_after_of(result));
    }

    if (s.stream) parser.finish();
    if (!s.stream || parser.events_dispatched() == 0) {
      // A whole JSON body: non-streamed, or a server that ignored stream: true.
      if (tools::trim(raw).empty()) throw AttemptError(where + ": the server sent an empty response", true);
      const json body = json::parse(raw, nullptr, false);
      if (body.is_discarded())
        throw AttemptError(where + ": the response is not JSON (is llm.base_url an OpenAI-compatible API?): " +
                               snippet(raw),
                           false);
      LlmResponse whole;
      try {
        whole = parse_openai_completion(body);
      } catch (const std::runtime_error& e) {
        throw AttemptError(where + ": unexpected response: " + e.what() + ": " + snippet(raw), false);
      }
      if (on_delta && !whole.content.empty()) on_delta(whole.content);  // the whole text is one piece
      return whole;
    }
    if (!done && !assembler.finished())
      throw AttemptError(where + ": the stream ended before the model finished (no finish_reason and no [DONE])",
                         true);
    return assembler.result();
  };

  for (int attempt_number = 1;; ++attempt_number) {
    try {
      LlmResponse response = attempt();
      if (response.model.empty()) response.model = s.model;
      response.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      return response;
    } catch (const HttpCancelled&) {
      throw llm_cancelled_error(where);
    } catch (const AttemptError& e) {
      if (!e.retryable()) throw LlmError(e.what(), false);
      if (attempt_number > s.max_retries)
        throw LlmError(std::string(e.what()) + " (gave up after " + plural(attempt_number, "attempt") +
                           "; llm.max_retries is " + std::to_string(s.max_retries) + ")",
                       true);
      double wait_s = std::min(s.retry_base_s * std::pow(2.0, attempt_number - 1), s.retry_cap_s);
      if (auto after = e.retry_after_s()) wait_s = *after;
      if (!sleep_unless_cancelled(request.cancel, std::chrono::duration<double>(wait_s)))
        throw llm_cancelled_error(where);
    }
  }
}

std::unique_ptr<LlmProvider> make_openai_provider(const json& settings, const std::string& /*base_dir*/) {
  return std::make_unique<OpenAiProvider>(parse_openai_settings(settings));
}

}  // namespace chorus::agents
