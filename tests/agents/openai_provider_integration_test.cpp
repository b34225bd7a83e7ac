// The openai provider against a real local HTTP server (ReplayHttpServer on loopback) replaying chat completion
// bodies and server-sent event streams: parsing, the request it sends, and every retry and failure path.
#include "agents/llm.h"
#include "agents/openai-provider.h"
#include "tests/support/replay-http-server.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace chorus::agents {
namespace {

using namespace std::chrono_literals;
using chorus::testing::RecordedRequest;
using chorus::testing::ReplayChunk;
using chorus::testing::ReplayHttpServer;
using chorus::testing::ReplayResponse;
using nlohmann::json;


constexpr const char* kPath = "/v1/chat/completions";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Sets (or unsets, with nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? (void)::setenv(name, value->c_str(), 1) : (void)::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? (void)::setenv(name_, old_->c_str(), 1) : (void)::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Provider settings pointing at `server`, with fast retries; `extra` overrides or adds keys.
json settings_for(const ReplayHttpServer& server, const json& extra = json::object()) {
  json s = {{"provider", "openai"}, {"base_url", server.url("/v1")}, {"model", "test-model"},
            {"retry_base_s", 0.01},  {"timeout_s", 5}};
  for (const auto& [key, value] : extra.items()) s[key] = value;
  return s;
}

LlmRequest user_says(const std::string& text) {
  LlmRequest request;
  request.messages.push_back({"user", text, {}, "", ""});
  return request;
}

// A non-streamed chat completion body.
std::string completion_body(const json& message, const std::string& finish = "stop") {
  return json{{"id", "chatcmpl-1"},
              {"object", "chat.completion"},
              {"model", "served-model"},
              {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", finish}}}},
              {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 3}, {"total_tokens", 15}}}}
      .dump();
}

ReplayResponse text_completion(const std::string& text) {
  return ReplayResponse::json(200, completion_body({{"role", "assistant"}, {"content", text}}));
}

// One SSE event carrying a stream chunk with a delta for choice 0.
std::string sse_delta(const json& delta, const json& finish = nullptr) {
  const json chunk = {{"id", "chatcmpl-1"},
                      {"object", "chat.completion.chunk"},
                      {"model", "served-model"},
                      {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
  return "data: " + chunk.dump() + "\n\n";
}

std::string sse_usage(long long prompt, long long completion) {
  const json chunk = {{"id", "chatcmpl-1"},
                      {"object", "chat.completion.chunk"},
                      {"model", "served-model"},
                      {"choices", json::array()},
                      {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}}}};
  return "data: " + chunk.dump() + "\n\n";
}

const std::string kDone = "data: [DONE]\n\n";

// The whole event stream of a text answer made of `pieces`.
std::string text_stream(const std::vector<std::string>& pieces, bool finish = true) {
  std::string out = sse_delta({{"role", "assistant"}, {"content", ""}});
  for (const std::string& piece : pieces) out += sse_delta({{"content", piece}});
  if (finish) out += sse_delta(json::object(), "stop") + sse_usage(20, 7) + kDone;
  return out;
}

// `text` cut into pieces of `size` bytes, each sent after a short pause (boundaries fall anywhere).
ReplayResponse streamed_in_pieces(const std::string& text, std::size_t size) {
  std::vector<ReplayChunk> chunks;
  for (std::size_t i = 0; i < text.size(); i += size) chunks.push_back({text.substr(i, size), 2ms});
  return ReplayResponse::stream(chunks);
}

struct Collected {
  std::vector<std::string> deltas;
  LlmDeltaCallback callback() {
    return [this](const std::string& d) { deltas.push_back(d); };
  }
};

json body_of(const RecordedRequest& request) { return json::parse(request.body); }

double ms_between(const RecordedRequest& a, const RecordedRequest& b) {
  return std::chrono::duration<double, std::milli>(b.received - a.received).count();
}

TEST(OpenAiProvider, NonStreamedTextCarriesContentUsageModelAndElapsed) {
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("Hello there.")});
  auto provider = make_llm_provider(settings_for(server, {{"stream", false}}), ".");
  EXPECT_EQ(provider->describe(), "openai:test-model");
  Collected collected;
  const LlmResponse r = provider->complete(user_says("Hi"), collected.callback());
  EXPECT_EQ(r.content, "Hello there.");
  EXPECT_TRUE(r.tool_calls.empty());
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.prompt_tokens, 12);
  EXPECT_EQ(r.usage.completion_tokens, 3);
  EXPECT_EQ(r.model, "served-model");
  EXPECT_GT(r.elapsed_ms, 0);
  EXPECT_EQ(collected.deltas, std::vector<std::string>{"Hello there."});
  ASSERT_EQ(server.request_count(), 1u);
  const RecordedRequest sent = server.requests()[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.header("authorization"), "");  // no api_key_env: no key sent
  const json body = body_of(sent);
  EXPECT_FALSE(body.contains("stream"));
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_EQ(body["messages"], json::parse(R"([{"role": "user", "content": "Hi"}])"));
}

TEST(OpenAiProvider, NonStreamedToolCallsAreParsedWithIdsAndRawArguments) {
  ReplayHttpServer server;
  const json message = json::parse(R"J({
    "role": "assistant", "content": null,
    "tool_calls": [
      {"id": "call_abc", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
      {"type": "function", "function": {"name": "calculator", "arguments": "{\"expression\": \"2+"}}
    ]})J");
  server.route("POST", kPath, {ReplayResponse::json(200, completion_body(message, "tool_calls"))});
  auto provider = make_llm_provider(settings_for(server, {{"stream", false}}), ".");
  const LlmResponse r = provider->complete(user_says("Weather in Paris?"));
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].id, "call_abc");
  EXPECT_EQ(r.tool_calls[0].name, "get_weather");
  EXPECT_EQ(json::parse(r.tool_calls[0].arguments_text), json({{"city", "Paris"}}));
  EXPECT_EQ(r.tool_calls[1].id, "call_2");  // the server gave none
  EXPECT_EQ(r.tool_calls[1].name, "calculator");
  EXPECT_EQ(r.tool_calls[1].arguments_text, "{\"expression\": \"2+");  // malformed arguments kept as emitted
}

TEST(OpenAiProvider, StreamedTextArrivesAsDeltasAcrossArbitraryChunkBoundaries) {
  ReplayHttpServer server;
  const std::string events = text_stream({"Hel", "lo", " wor", "ld!"});
  server.route("POST", kPath, {streamed_in_pieces(events, 7)});
  auto provider = make_llm_provider(settings_for(server), ".");
  Collected collected;
  const LlmResponse r = provider->complete(user_says("Greet me"), collected.callback());
  EXPECT_EQ(collected.deltas, (std::vector<std::string>{"Hel", "lo", " wor", "ld!"}));
  EXPECT_EQ(r.content, "Hello world!");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.prompt_tokens, 20);  // from the final, choice-less usage chunk
  EXPECT_EQ(r.usage.completion_tokens, 7);
  EXPECT_EQ(r.model, "served-model");
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiProvider, StreamedTextWithCrLfLineEndsAndKeepAliveComments) {
  ReplayHttpServer server;
  std::string events = ": keep-alive\n\n" + text_stream({"a", "b"});
  std::string crlf;
  for (char c : events) c == '\n' ? crlf.append("\r\n") : crlf.append(1, c);
  server.route("POST", kPath, {streamed_in_pieces(crlf, 5)});  // odd size: \r and \n land in different chunks
  auto provider = make_llm_provider(settings_for(server), ".");
  EXPECT_EQ(provider->complete(user_says("x")).content, "ab");
}

TEST(OpenAiProvider, StreamedToolCallsAreAssembledByIndexFromInterleavedFragments) {
  ReplayHttpServer server;
  auto call_delta = [](int index, const json& fields) {
    json call = {{"index", index}};
    call.update(fields);
    return json{{"tool_calls", json::array({call})}};
  };
  std::string events = sse_delta({{"role", "assistant"}, {"content", nullptr}});
  events += sse_delta(call_delta(0, {{"id", "call_w"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", ""}}}}));
  events += sse_delta(call_delta(1, {{"id", "call_c"}, {"type", "function"}, {"function", {{"name", "calculator"}, {"arguments", ""}}}}));
  events += sse_delta(call_delta(0, {{"function", {{"arguments", "{\"ci"}}}}));
  events += sse_delta(call_delta(1, {{"function", {{"arguments", "{\"expres"}}}}));
  events += sse_delta(call_delta(0, {{"function", {{"arguments", "ty\": \"Pa"}}}}));
  events += sse_delta(call_delta(1, {{"function", {{"arguments", "sion\": \"2+2\"}"}}}}));
  events += sse_delta(call_delta(0, {{"function", {{"arguments", "ris\"}"}}}}));
  events += sse_delta(json::object(), "tool_calls") + sse_usage(40, 25) + kDone;
  server.route("POST", kPath, {streamed_in_pieces(events, 11)});
  auto provider = make_llm_provider(settings_for(server), ".");
  Collected collected;
  const LlmResponse r = provider->complete(user_says("Weather and sum"), collected.callback());
  EXPECT_TRUE(collected.deltas.empty());
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.finish_reason, "tool_calls");
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].id, "call_w");
  EXPECT_EQ(r.tool_calls[0].name, "get_weather");
  EXPECT_EQ(r.tool_calls[0].arguments_text, "{\"city\": \"Paris\"}");
  EXPECT_EQ(r.tool_calls[1].id, "call_c");
  EXPECT_EQ(r.tool_calls[1].name, "calculator");
  EXPECT_EQ(json::parse(r.tool_calls[1].arguments_text), json({{"expression", "2+2"}}));
  EXPECT_EQ(r.usage.prompt_tokens, 40);
  EXPECT_EQ(r.usage.completion_tokens, 25);
}

TEST(OpenAiProvider, RequestBodyAndHeadersHaveOpenAisShape) {
  ScopedEnv key("CHORUS_TEST_OPENAI_KEY", "sk-test-123");
  ReplayHttpServer server;
  server.route("POST", kPath, {ReplayResponse::stream({{text_stream({"ok"}), 0ms}})});
  const json settings = settings_for(server, {{"api_key_env", "CHORUS_TEST_OPENAI_KEY"},
                                              {"organization", "org-42"},
                                              {"extra_headers", {{"X-Trace", "abc"}}},
                                              {"temperature", 0.2},
                                              {"top_p", 0.9},
                                              {"max_tokens", 50},
                                              {"stop", "END"}});
  auto provider = make_llm_provider(settings, ".");
  LlmRequest request;
  request.messages.push_back({"system", "Be brief.", {}, "", ""});
  request.messages.push_back({"user", "Weather in Paris?", {}, "", ""});
  request.messages.push_back({"assistant", "", {{"call_1", "get_weather", "{\"city\":\"Paris\"}"}}, "", ""});
  request.messages.push_back({"tool", "{\"temp_c\": 21}", {}, "call_1", "get_weather"});
  request.tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  request.tool_choice = "auto";
  request.max_tokens = 64;  // the request's own value wins over the settings'
  request.seed = 7;
  EXPECT_EQ(provider->complete(request).content, "ok");

  ASSERT_EQ(server.request_count(), 1u);
  const RecordedRequest sent = server.requests()[0];
  EXPECT_EQ(sent.path, kPath);
  EXPECT_EQ(sent.header("authorization"), "Bearer sk-test-123");
  EXPECT_EQ(sent.header("openai-organization"), "org-42");
  EXPECT_EQ(sent.header("x-trace"), "abc");
  EXPECT_EQ(sent.header("content-type"), "application/json");
  EXPECT_EQ(sent.header("accept"), "text/event-stream");
  const json body = body_of(sent);
  EXPECT_EQ(body["model"], "test-model");
  const json expected_messages = json::parse(R"J([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    {"role": "tool", "content": "{\"temp_c\": 21}", "tool_call_id": "call_1"}])J");
  EXPECT_EQ(body["messages"], expected_messages);
  EXPECT_EQ(body["tools"], request.tools);
  EXPECT_EQ(body["tool_choice"], "auto");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"], json({{"include_usage", true}}));
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.2);
  EXPECT_DOUBLE_EQ(body["top_p"].get<double>(), 0.9);
  EXPECT_EQ(body["max_tokens"], 64);
  EXPECT_EQ(body["seed"], 7);
  EXPECT_EQ(body["stop"], json::array({"END"}));
}

TEST(OpenAiProvider, TooManyRequestsHonoursRetryAfterThenSucceeds) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::json(429, R"({"error": {"message": "Rate limit reached", "type": "requests"}})")
                    .with_header("Retry-After", "1"),
                ReplayResponse::stream({{text_stream({"after wait"}), 0ms}})});
  auto provider = make_llm_provider(settings_for(server), ".");  // backoff alone would wait 10 ms
  const LlmResponse r = provider->complete(user_says("x"));
  EXPECT_EQ(r.content, "after wait");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(ms_between(requests[0], requests[1]), 950);
  EXPECT_GE(r.elapsed_ms, 1000);
}

TEST(OpenAiProvider, ServerErrorsAreRetriedWithBackoff) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::json(500, R"({"error": {"message": "internal"}})"),
                ReplayResponse::text(502, "<html>bad gateway</html>", "text/html"), text_completion("third time")});
  auto provider = make_llm_provider(settings_for(server, {{"stream", false}, {"retry_base_s", 0.1}}), ".");
  const LlmResponse r = provider->complete(user_says("x"));
  EXPECT_EQ(r.content, "third time");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_GE(ms_between(requests[0], requests[1]), 90);   // 0.1 s
  EXPECT_GE(ms_between(requests[1], requests[2]), 190);  // then 0.2 s
}

TEST(OpenAiProvider, DroppedConnectionIsRetried) {
  ReplayHttpServer server;
  server.route("POST", kPath, {ReplayResponse::dropped(), ReplayResponse::stream({{text_stream({"back"}), 0ms}})});
  auto provider = make_llm_provider(settings_for(server), ".");
  EXPECT_EQ(provider->complete(user_says("x")).content, "back");
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiProvider, StreamCutBeforeTheEndIsRetriedFromTheStart) {
  ReplayHttpServer server;
  // First attempt: the stream closes cleanly but without finish_reason or [DONE]; second: cut mid-body.
  server.route("POST", kPath,
               {streamed_in_pieces(text_stream({"Par", "tial"}, false), 9),
                ReplayResponse::partial(text_stream({"also", " cut"}), 120, "text/event-stream"),
                ReplayResponse::stream({{text_stream({"Who", "le"}), 0ms}})});
  auto provider = make_llm_provider(settings_for(server), ".");
  Collected collected;
  const LlmResponse r = provider->complete(user_says("x"), collected.callback());
  EXPECT_EQ(r.content, "Whole");  // only the successful attempt's text
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(server.request_count(), 3u);
  // Pieces streamed by the failed attempts were already delivered (documented caveat), then the retry's.
  ASSERT_GE(collected.deltas.size(), 4u);
  EXPECT_EQ(collected.deltas.front(), "Par");
  EXPECT_EQ(collected.deltas[collected.deltas.size() - 2], "Who");
  EXPECT_EQ(collected.deltas.back(), "le");
}

TEST(OpenAiProvider, ConnectionLostAfterTheFinishReasonKeepsTheAnswer) {
  ReplayHttpServer server;
  const std::string finished = text_stream({"Kept"}, false) + sse_delta(json::object(), "stop");
  server.route("POST", kPath,
               {ReplayResponse::partial(finished + sse_usage(5, 1) + kDone, finished.size(), "text/event-stream")});
  const LlmResponse r = make_llm_provider(settings_for(server), ".")->complete(user_says("x"));
  EXPECT_EQ(r.content, "Kept");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.completion_tokens, 0);  // the usage chunk never came
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiProvider, ClientErrorFailsAtOnceWithTheServersMessage) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::json(400, R"({"error": {"message": "max_tokens is too large: 99999", "type":
                    "invalid_request_error", "param": "max_tokens"}})")});
  auto provider = make_llm_provider(settings_for(server), ".");
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "HTTP 400")) << message;
    EXPECT_TRUE(contains(message, "max_tokens is too large: 99999")) << message;
    EXPECT_TRUE(contains(message, "test-model")) << message;
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiProvider, ClientErrorWithNonJsonBodyQuotesIt) {
  ReplayHttpServer server;
  server.route("POST", kPath, {ReplayResponse::text(404, "no such route, friend")});
  auto provider = make_llm_provider(settings_for(server), ".");
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "HTTP 404")) << message;
    EXPECT_TRUE(contains(message, "no such route, friend")) << message;
    EXPECT_TRUE(contains(message, "llm.base_url")) << message;
  }
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiProvider, RetriesExhaustedFailsAfterMaxRetriesPlusOneRequests) {
  ReplayHttpServer server;
  server.route("POST", kPath, {ReplayResponse::json(503, R"({"error": {"message": "overloaded"}})")});
  auto provider = make_llm_provider(settings_for(server, {{"max_retries", 2}}), ".");
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "HTTP 503")) << message;
    EXPECT_TRUE(contains(message, "overloaded")) << message;
    EXPECT_TRUE(contains(message, "gave up after 3 attempts")) << message;
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(OpenAiProvider, SlowServerTimesOutAndIsRetried) {
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("too late").after(3000ms)});
  auto provider =
      make_llm_provider(settings_for(server, {{"stream", false}, {"timeout_s", 0.3}, {"max_retries", 1}}), ".");
  const auto start = std::chrono::steady_clock::now();
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "timed out")) << e.what();
    EXPECT_TRUE(contains(e.what(), "gave up after 2 attempts")) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiProvider, MalformedBodiesGiveClearErrorsWithoutRetrying) {
  ReplayHttpServer server;
  server.route("POST", kPath, {ReplayResponse::text(200, "<html>a login page</html>", "text/html")});
  auto provider = make_llm_provider(settings_for(server, {{"stream", false}}), ".");
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "not JSON")) << e.what();
    EXPECT_TRUE(contains(e.what(), "a login page")) << e.what();
    EXPECT_FALSE(e.retryable());
  }
  ReplayHttpServer other;
  other.route("POST", kPath, {ReplayResponse::json(200, R"({"object": "list", "data": []})")});
  try {
    make_llm_provider(settings_for(other, {{"stream", false}}), ".")->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "no choices[0]")) << e.what();
  }
  ReplayHttpServer streaming;
  streaming.route("POST", kPath, {ReplayResponse::stream({{"data: {\"choices\": [\n\n" + kDone, 0ms}})});
  try {
    make_llm_provider(settings_for(streaming), ".")->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "not JSON")) << e.what();
  }
  EXPECT_EQ(server.request_count() + other.request_count() + streaming.request_count(), 3u);
}

TEST(OpenAiProvider, ServerThatIgnoresStreamIsReadAsOneBody) {
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("plain JSON anyway")});
  Collected collected;
  const LlmResponse r = make_llm_provider(settings_for(server), ".")->complete(user_says("x"), collected.callback());
  EXPECT_EQ(r.content, "plain JSON anyway");
  EXPECT_EQ(collected.deltas, std::vector<std::string>{"plain JSON anyway"});
}

TEST(OpenAiProvider, ErrorEventMidStreamIsReported) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::stream({{sse_delta({{"content", "Hi"}}) +
                                             "data: {\"error\": {\"message\": \"context length exceeded\"}}\n\n",
                                         0ms}})});
  try {
    make_llm_provider(settings_for(server), ".")->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "context length exceeded")) << e.what();
  }
}

TEST(OpenAiProvider, UnknownSettingsKeyIsRejectedWithASuggestion) {
  try {
    make_llm_provider({{"provider", "openai"}, {"model", "m"}, {"temprature", 0.5}}, ".");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "llm.temprature")) << message;
    EXPECT_TRUE(contains(message, "did you mean llm.temperature?")) << message;
  }
  EXPECT_THROW(make_llm_provider({{"provider", "openai"}}, "."), std::invalid_argument);  // no model
  try {
    make_llm_provider({{"provider", "openai"}, {"model", "m"}, {"max_retries", "four"}}, ".");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "llm.max_retries must be an integer")) << e.what();
  }
  try {
    make_llm_provider({{"provider", "openai"}, {"model", "m"}, {"base_url", "localhost:8000/v1"}}, ".");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "llm.base_url must start with http://")) << e.what();
  }
}

TEST(OpenAiProvider, MissingApiKeyVariableIsAClearErrorAndSendsNothing) {
  ScopedEnv unset("CHORUS_TEST_MISSING_KEY", std::nullopt);
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("unused")});
  auto provider = make_llm_provider(settings_for(server, {{"api_key_env", "CHORUS_TEST_MISSING_KEY"}}), ".");
  try {
    provider->complete(user_says("x"));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "CHORUS_TEST_MISSING_KEY")) << message;
    EXPECT_TRUE(contains(message, "llm.api_key_env")) << message;
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_EQ(server.request_count(), 0u);
}

// Requests `source`'s stop after `delay`, from another thread (joined when the result goes out of scope).
std::jthread stop_after(std::stop_source source, std::chrono::milliseconds delay) {
  return std::jthread([source, delay]() mutable {
    std::this_thread::sleep_for(delay);
    source.request_stop();
  });
}

// Calls `provider` with `request`, expecting the cancellation error; returns the milliseconds it took.
double expect_cancelled(LlmProvider& provider, const LlmRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  try {
    provider.complete(request);
    ADD_FAILURE() << "expected the cancellation LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "cancelled: the step's deadline passed or the run was cancelled")) << e.what();
    EXPECT_TRUE(contains(e.what(), "openai provider")) << e.what();
    EXPECT_FALSE(e.retryable());
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

TEST(OpenAiProvider, StopRequestAbortsASlowStreamAtOnce) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::stream({{sse_delta({{"role", "assistant"}, {"content", "Hel"}}), 0ms},
                                        {sse_delta({{"content", "lo"}}), 4000ms},
                                        {sse_delta(json::object(), "stop") + kDone, 4000ms}})});
  auto provider = make_llm_provider(settings_for(server, {{"timeout_s", 30}}), ".");
  std::stop_source source;
  LlmRequest request = user_says("x");
  request.cancel = source.get_token();
  Collected collected;
  const auto stopper = stop_after(source, 200ms);
  const auto start = std::chrono::steady_clock::now();
  try {
    provider->complete(request, collected.callback());
    FAIL() << "expected the cancellation LlmError";
  } catch (const LlmError& e) {
    EXPECT_TRUE(contains(e.what(), "cancelled: the step's deadline passed or the run was cancelled")) << e.what();
    EXPECT_FALSE(e.retryable());
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(ms, 150);
  EXPECT_LT(ms, 1000);
  EXPECT_EQ(collected.deltas, std::vector<std::string>({"Hel"}));
  EXPECT_EQ(server.request_count(), 1u);  // not retried
}

TEST(OpenAiProvider, StopRequestAbortsAWaitForANonStreamedAnswer) {
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("too late").after(5000ms)});
  auto provider = make_llm_provider(settings_for(server, {{"stream", false}, {"timeout_s", 30}}), ".");
  std::stop_source source;
  LlmRequest request = user_says("x");
  request.cancel = source.get_token();
  const auto stopper = stop_after(source, 200ms);
  EXPECT_LT(expect_cancelled(*provider, request), 1000);
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(OpenAiProvider, StopRequestCutsARetryAfterWaitShort) {
  ReplayHttpServer server;
  server.route("POST", kPath,
               {ReplayResponse::json(429, R"({"error": {"message": "Rate limit reached"}})").with_header("Retry-After", "30"),
                ReplayResponse::stream({{text_stream({"after wait"}), 0ms}})});
  auto provider = make_llm_provider(settings_for(server), ".");
  std::stop_source source;
  LlmRequest request = user_says("x");
  request.cancel = source.get_token();
  const auto stopper = stop_after(source, 200ms);
  const double ms = expect_cancelled(*provider, request);
  EXPECT_GE(ms, 150);
  EXPECT_LT(ms, 1000);
  EXPECT_EQ(server.request_count(), 1u);  // the retry never went out
}

TEST(OpenAiProvider, AlreadyRequestedStopSendsNothing) {
  ReplayHttpServer server;
  server.route("POST", kPath, {text_completion("unused")});
  auto provider = make_llm_provider(settings_for(server), ".");
  std::stop_source source;
  source.request_stop();
  LlmRequest request = user_says("x");
  request.cancel = source.get_token();
  EXPECT_LT(expect_cancelled(*provider, request), 500);
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(OpenAiProvider, UnrequestedStopTokenChangesNothing) {
  ReplayHttpServer server;
  server.route("POST", kPath, {streamed_in_pieces(text_stream({"Fine", " thanks"}), 7)});
  auto provider = make_llm_provider(settings_for(server), ".");
  std::stop_source source;
  LlmRequest request = user_says("x");
  request.cancel = source.get_token();
  EXPECT_EQ(provider->complete(request).content, "Fine thanks");
}

}  // namespace
}  // namespace chorus::agents
