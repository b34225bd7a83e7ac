// The network tools and their HTTP client against a local server replaying recorded responses
// (tests/data/http). Asserts the parsed results, the requests the server received, and every failure path.
#include "tests/support/replay-http-server.h"
#include "tools/arxiv-tool.h"
#include "tools/http-client.h"
#include "tools/http-fetch-tool.h"
#include "tools/tool-registry.h"
#include "tools/web-search-tool.h"
#include "tools/web-tools.h"
#include "tools/wolfram-alpha-tool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

namespace chorus::tools {
namespace {

using namespace std::chrono_literals;
using chorus::testing::RecordedRequest;
using chorus::testing::ReplayChunk;
using chorus::testing::ReplayHttpServer;
using chorus::testing::ReplayResponse;
using nlohmann::json;


// Fast limits so failure paths finish in a fraction of a second.
HttpOptions fast_http(int retries = 0) {
  HttpOptions o;
  o.timeout_ms = 2000;
  o.connect_timeout_ms = 1000;
  o.retries = retries;
  o.backoff_ms = 10;
  return o;
}

// Calls `tool` through a registry, as an agent would.
CallResult call(Tool tool, const json& args) {
  ToolRegistry registry;
  const std::string name = tool.spec.name;
  registry.add(std::move(tool));
  return registry.call(name, args);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double ms_between(const RecordedRequest& a, const RecordedRequest& b) {
  return std::chrono::duration<double, std::milli>(b.received - a.received).count();
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { old_ ? (void)::setenv(name_, old_->c_str(), 1) : (void)::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

ArxivOptions arxiv_options(const ReplayHttpServer& server, int retries = 0) {
  ArxivOptions o;
  o.base_url = server.base_url();
  o.http = fast_http(retries);
  return o;
}

WolframAlphaOptions wolfram_options(const ReplayHttpServer& server) {
  WolframAlphaOptions o;
  o.base_url = server.base_url();
  o.app_id = "TEST-APPID-123";
  o.http = fast_http();
  return o;
}

WebSearchOptions search_options(const ReplayHttpServer& server, int retries = 0) {
  WebSearchOptions o;
  o.base_url = server.base_url() + "/";
  o.http = fast_http(retries);
  return o;
}

HttpFetchOptions fetch_options(std::vector<std::string> allowed = {"127.0.0.1"}) {
  HttpFetchOptions o;
  o.allowed_hosts = std::move(allowed);
  o.http = fast_http();
  return o;
}

// arxiv_search ------------------------------------------------------------------------------------------

TEST(ArxivSearch, ParsesFeedAndSendsEncodedQuery) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(200, "arxiv-feed.xml", "application/atom+xml")});
  const std::string query = "all:\"multi-agent\" AND cat:cs.AI";
  auto result = call(make_arxiv_tool(arxiv_options(server)),
                     {{"query", query}, {"max_results", 2}, {"sort_by", "submittedDate"}});
  ASSERT_TRUE(result.ok()) << result.error;
  const json& r = result.value;
  EXPECT_EQ(r["total_results"], 1287);
  EXPECT_EQ(r["start_index"], 0);
  EXPECT_EQ(r["query"], query);
  ASSERT_EQ(r["entries"].size(), 2u);
  const json& e = r["entries"][0];
  EXPECT_EQ(e["id"], "http://arxiv.org/abs/2503.02812v1");
  EXPECT_EQ(e["arxiv_id"], "2503.02812v1");
  EXPECT_EQ(e["title"], "Coordinating Tool-Using Language Model Agents with Typed Message Passing");
  EXPECT_TRUE(contains(e["summary"], "reduce failed tool calls by 38% on three benchmarks & improve end-to-end"))
      << e["summary"];
  EXPECT_FALSE(contains(e["summary"], "\n"));
  EXPECT_EQ(e["authors"], json({"Ana Pereira", "Tomasz Kowalski", "Mei Lin"}));
  EXPECT_EQ(e["published"], "2025-03-04T17:21:09Z");
  EXPECT_EQ(e["updated"], "2025-03-04T17:21:09Z");
  EXPECT_EQ(e["primary_category"], "cs.AI");
  EXPECT_EQ(e["categories"], json({"cs.AI", "cs.MA", "cs.CL"}));
  EXPECT_EQ(e["pdf_url"], "http://arxiv.org/pdf/2503.02812v1");
  EXPECT_EQ(e["abs_url"], "http://arxiv.org/abs/2503.02812v1");
  EXPECT_EQ(e["comment"], "14 pages, 5 figures");
  const json& second = r["entries"][1];
  EXPECT_EQ(second["arxiv_id"], "2410.11782v3");
  EXPECT_EQ(second["authors"][0], "Jonas Müller");
  EXPECT_EQ(second["pdf_url"], "http://arxiv.org/pdf/2410.11782v3");  // not the doi link
  EXPECT_EQ(second["doi"], "10.1000/example.2024.11782");
  EXPECT_EQ(second["journal_ref"], "Proc. Workshop on Agents (2025) 1-12");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& q = requests[0];
  EXPECT_EQ(q.method, "GET");
  EXPECT_EQ(q.path, "/api/query");
  EXPECT_EQ(q.query,
            "search_query=all%3A%22multi-agent%22%20AND%20cat%3Acs.AI&start=0&max_results=2&sortBy=submittedDate"
            "&sortOrder=descending");
  EXPECT_EQ(q.param("search_query"), query);
  EXPECT_EQ(q.header("user-agent"), HttpOptions().user_agent);
}

TEST(ArxivSearch, ParsesFeedWithNamespacesOnTheRoot) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(200, "arxiv-feed-root-namespaces.xml", "application/atom+xml")});
  auto result = call(make_arxiv_tool(arxiv_options(server)), {{"query", "au:del_maestro"}, {"max_results", 1}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["total_results"], 64);
  const json& e = result.value["entries"][0];
  EXPECT_EQ(e["arxiv_id"], "cond-mat/0102536v1");
  EXPECT_EQ(e["primary_category"], "cond-mat.str-el");
  EXPECT_EQ(e["pdf_url"], "https://arxiv.org/pdf/cond-mat/0102536v1");
  EXPECT_EQ(e["authors"], json({"David Prendergast", "M. Nolan"}));
  EXPECT_EQ(server.requests()[0].param("sortBy"), "relevance");
  EXPECT_EQ(server.requests()[0].param("max_results"), "1");
}

TEST(ArxivSearch, MalformedXmlIsAToolError) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(200, "arxiv-malformed.xml", "application/atom+xml")});
  auto result = call(make_arxiv_tool(arxiv_options(server)), {{"query", "electron"}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status, CallStatus::failed);
  EXPECT_TRUE(contains(result.error, "malformed XML")) << result.error;
}

TEST(ArxivSearch, NonFeedXmlIsAToolError) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::text(200, "<html><body>maintenance</body></html>", "text/html")});
  auto result = call(make_arxiv_tool(arxiv_options(server)), {{"query", "electron"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "not an Atom feed")) << result.error;
}

TEST(ArxivSearch, ApiErrorEntryIsReported) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(400, "arxiv-error.xml", "application/atom+xml")});
  auto result = call(make_arxiv_tool(arxiv_options(server)), {{"query", "id:1234.12345v"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "arXiv rejected the query: incorrect id format for 1234.12345v")) << result.error;
}

TEST(ArxivSearch, RejectsOutOfRangeMaxResults) {
  ReplayHttpServer server;
  auto result = call(make_arxiv_tool(arxiv_options(server)), {{"query", "x"}, {"max_results", 51}});
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "max_results")) << result.error;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(ArxivSearch, TimeoutIsReportedQuickly) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(200, "arxiv-feed.xml", "application/atom+xml").after(3s)});
  ArxivOptions options = arxiv_options(server);
  options.http.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  auto result = call(make_arxiv_tool(options), {{"query", "electron"}});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "timed out after 300 ms")) << result.error;
  EXPECT_TRUE(contains(result.error, "127.0.0.1")) << result.error;
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_EQ(server.request_count(), 1u);
}

// wolfram_alpha -----------------------------------------------------------------------------------------

TEST(WolframAlpha, ReturnsAnswerAndSendsAppId) {
  ReplayHttpServer server;
  server.route("GET", "/api/v1/llm-api", {ReplayResponse::file(200, "wolfram-answer.txt", "text/plain;charset=utf-8")});
  auto result = call(make_wolfram_alpha_tool(wolfram_options(server)), {{"input", "integrate x^2 sin x dx"}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["input"], "integrate x^2 sin x dx");
  EXPECT_TRUE(contains(result.value["answer"], "2 x sin(x) - (x^2 - 2) cos(x) + constant"));
  EXPECT_EQ(result.value["url"], "https://www.wolframalpha.com/input?i=integrate+x%5E2+sin+x+dx");
  ASSERT_EQ(server.request_count(), 1u);
  const RecordedRequest q = server.requests()[0];
  EXPECT_EQ(q.path, "/api/v1/llm-api");
  EXPECT_EQ(q.query, "input=integrate%20x%5E2%20sin%20x%20dx&appid=TEST-APPID-123&maxchars=6800");
  EXPECT_EQ(q.param("appid"), "TEST-APPID-123");
}

TEST(WolframAlpha, PassesMaxChars) {
  ReplayHttpServer server;
  server.route("GET", "/api/v1/llm-api", {ReplayResponse::text(200, "Result:\n42")});
  auto result = call(make_wolfram_alpha_tool(wolfram_options(server)), {{"input", "6*7"}, {"max_chars", 500}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["answer"], "Result:\n42");
  EXPECT_FALSE(result.value.contains("url"));
  EXPECT_EQ(server.requests()[0].param("maxchars"), "500");
}

TEST(WolframAlpha, NotUnderstoodReturnsSuggestionsWithoutRetrying) {
  ReplayHttpServer server;
  server.route("GET", "/api/v1/llm-api", {ReplayResponse::file(501, "wolfram-501.txt", "text/plain")});
  WolframAlphaOptions options = wolfram_options(server);
  options.http.retries = 2;
  auto result = call(make_wolfram_alpha_tool(options), {{"input", "flibberjabbers per snorkelwhump"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "could not interpret the input \"flibberjabbers per snorkelwhump\""))
      << result.error;
  EXPECT_TRUE(contains(result.error, "Things to try instead")) << result.error;
  EXPECT_EQ(server.request_count(), 1u);  // 501 is an answer, not a transient failure
}

TEST(WolframAlpha, InvalidAppIdNamesTheVariable) {
  ReplayHttpServer server;
  server.route("GET", "/api/v1/llm-api", {ReplayResponse::text(403, "Error 1: Invalid appid")});
  auto result = call(make_wolfram_alpha_tool(wolfram_options(server)), {{"input", "pi"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "Invalid appid")) << result.error;
  EXPECT_TRUE(contains(result.error, "WOLFRAM_ALPHA_APPID")) << result.error;
  EXPECT_FALSE(contains(result.error, "TEST-APPID-123")) << result.error;  // the secret stays out of messages
}

TEST(WolframAlpha, MissingAppIdFailsWithoutARequest) {
  ReplayHttpServer server;
  WolframAlphaOptions options = wolfram_options(server);
  options.app_id.clear();
  auto result = call(make_wolfram_alpha_tool(options), {{"input", "pi"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "set the environment variable WOLFRAM_ALPHA_APPID")) << result.error;
  EXPECT_EQ(server.request_count(), 0u);
}

// web_search --------------------------------------------------------------------------------------------

TEST(WebSearch, ReturnsTopResultsAndSendsParameters) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::file(200, "searxng-results.json", "application/json")});
  auto result = call(make_web_search_tool(search_options(server)),
                     {{"query", "chorus multi-agent framework"}, {"max_results", 3}, {"language", "en"},
                      {"categories", "general,it"}, {"page", 2}});
  ASSERT_TRUE(result.ok()) << result.error;
  const json& r = result.value;
  EXPECT_EQ(r["query"], "chorus multi-agent framework");
  ASSERT_EQ(r["results"].size(), 3u);
  EXPECT_EQ(r["results"][0], json({{"title", "Chorus: a multi-agent framework"},
                                   {"url", "https://example.org/chorus"},
                                   {"content", "Chorus runs agents that exchange typed messages and call tools."},
                                   {"engine", "duckduckgo"}}));
  EXPECT_EQ(r["results"][1]["engine"], "wikipedia");
  EXPECT_TRUE(contains(r["results"][1]["content"], "\"self-organized system\""));
  EXPECT_EQ(r["suggestions"], json({"chorus agents github", "multi-agent framework c++"}));
  EXPECT_EQ(r["answers"], json::array());

  ASSERT_EQ(server.request_count(), 1u);
  const RecordedRequest q = server.requests()[0];
  EXPECT_EQ(q.path, "/search");
  EXPECT_EQ(q.query, "q=chorus%20multi-agent%20framework&format=json&pageno=2&language=en&categories=general%2Cit");
  EXPECT_EQ(q.param("categories"), "general,it");
}

TEST(WebSearch, DefaultsToFiveResults) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::file(200, "searxng-results.json", "application/json")});
  auto result = call(make_web_search_tool(search_options(server)), {{"query", "agents"}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["results"].size(), 5u);
  EXPECT_EQ(server.requests()[0].query, "q=agents&format=json&pageno=1");
}

TEST(WebSearch, CapsMaxResultsAtTwenty) {
  ReplayHttpServer server;
  auto result = call(make_web_search_tool(search_options(server)), {{"query", "agents"}, {"max_results", 21}});
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(WebSearch, MalformedJsonIsAToolError) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::file(200, "searxng-malformed.json", "application/json")});
  auto result = call(make_web_search_tool(search_options(server)), {{"query", "chorus"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "SearXNG returned malformed JSON")) << result.error;
}

TEST(WebSearch, JsonWithoutResultsIsAToolError) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::json(200, R"({"error": "rate limited"})")});
  auto result = call(make_web_search_tool(search_options(server)), {{"query", "chorus"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "without a \"results\" array")) << result.error;
}

TEST(WebSearch, DisabledJsonFormatExplainsTheFix) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::text(403, "Forbidden")});
  auto result = call(make_web_search_tool(search_options(server)), {{"query", "chorus"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "search.formats")) << result.error;
}

TEST(WebSearch, UnsetBaseUrlNamesTheVariable) {
  WebSearchOptions options;
  auto result = call(make_web_search_tool(options), {{"query", "chorus"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "set the environment variable CHORUS_SEARXNG_URL")) << result.error;
}

TEST(WebSearch, RetriesAfter429ThenSucceeds) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::text(429, "Too Many Requests"),
                                  ReplayResponse::file(200, "searxng-results.json", "application/json")});
  auto result = call(make_web_search_tool(search_options(server, 2)), {{"query", "chorus"}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["results"].size(), 5u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].query, requests[1].query);
}

// HTTP client behaviour (retries, limits, transport failures) -----------------------------------------------

TEST(HttpClientReplay, HonoursRetryAfterSeconds) {
  ReplayHttpServer server;
  server.route("GET", "/busy", {ReplayResponse::text(429, "slow down").with_header("Retry-After", "1"),
                                ReplayResponse::text(200, "ok")});
  HttpClient client(fast_http(1));
  const HttpResponse response = client.get(server.url("/busy"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "ok");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(ms_between(requests[0], requests[1]), 950.0);  // not the 10 ms backoff
}

TEST(HttpClientReplay, CapsRetryAfter) {
  ReplayHttpServer server;
  server.route("GET", "/busy", {ReplayResponse::text(503, "later").with_header("Retry-After", "3600"),
                                ReplayResponse::text(200, "ok")});
  HttpOptions options = fast_http(1);
  options.max_retry_after_ms = 200;
  const HttpResponse response = HttpClient(options).get(server.url("/busy"));
  EXPECT_EQ(response.body, "ok");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(ms_between(requests[0], requests[1]), 180.0);
  EXPECT_LT(ms_between(requests[0], requests[1]), 1500.0);
}

TEST(HttpClientReplay, ExhaustedRetriesOn500AreAClearError) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::text(500, "boom")});
  auto result = call(make_arxiv_tool(arxiv_options(server, 2)), {{"query", "electron"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "request to 127.0.0.1 failed: HTTP 500 Internal Server Error (after 3 attempts)"))
      << result.error;
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(HttpClientReplay, StatusErrorCarriesStatusAndBody) {
  ReplayHttpServer server;
  server.route("GET", "/missing", {ReplayResponse::text(404, "nothing here")});
  try {
    HttpClient(fast_http(3)).get(server.url("/missing"));
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpErrorKind::http_status);
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.body(), "nothing here");
    EXPECT_EQ(e.host(), "127.0.0.1");
  }
  EXPECT_EQ(server.request_count(), 1u);  // 404 is not retried
}

TEST(HttpClientReplay, DroppedConnectionIsRetriedThenReported) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::dropped()});
  auto result = call(make_web_search_tool(search_options(server, 1)), {{"query", "chorus"}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "connection to 127.0.0.1 failed")) << result.error;
  EXPECT_TRUE(contains(result.error, "after 2 attempts")) << result.error;
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(HttpClientReplay, DroppedConnectionThenSuccess) {
  ReplayHttpServer server;
  server.route("GET", "/flaky", {ReplayResponse::dropped(), ReplayResponse::text(200, "second time lucky")});
  EXPECT_EQ(HttpClient(fast_http(1)).get(server.url("/flaky")).body, "second time lucky");
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(HttpClientReplay, PartialBodyIsAConnectionError) {
  ReplayHttpServer server;
  server.route("GET", "/partial", {ReplayResponse::partial(std::string(1000, 'x'), 100)});
  try {
    HttpClient(fast_http()).get(server.url("/partial"));
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpErrorKind::connection) << e.what();
    EXPECT_TRUE(contains(e.what(), "127.0.0.1")) << e.what();
  }
}

TEST(HttpClientReplay, ConnectionRefusedIsAConnectionError) {
  std::string url;
  {
    ReplayHttpServer gone;
    url = gone.url("/nothing");
  }
  try {
    HttpClient(fast_http()).get(url);
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.kind(), HttpErrorKind::connection) << e.what();
  }
}

TEST(HttpClientReplay, OversizeResponseIsRefusedOrTruncated) {
  ReplayHttpServer server;
  server.route("GET", "/big", {ReplayResponse::text(200, std::string(5000, 'a'))});
  server.route("GET", "/big-stream", {ReplayResponse::stream({{std::string(600, 'b'), 0ms}, {std::string(600, 'c'), 0ms}},
                                                             "text/plain")});
  HttpOptions options = fast_http(2);
  options.max_response_bytes = 1000;
  for (const char* path : {"/big", "/big-stream"}) {
    try {
      HttpClient(options).get(server.url(path));
      FAIL() << "expected HttpError for " << path;
    } catch (const HttpError& e) {
      EXPECT_EQ(e.kind(), HttpErrorKind::too_large) << e.what();
      EXPECT_TRUE(contains(e.what(), "larger than the limit of 1000 bytes")) << e.what();
    }
  }
  EXPECT_EQ(server.request_count(), 2u);  // too large is not retried
  options.truncate_oversize = true;
  const HttpResponse cut = HttpClient(options).get(server.url("/big-stream"));
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.body, std::string(600, 'b') + std::string(400, 'c'));
}

TEST(HttpClientReplay, StreamsChunksWithDelays) {
  ReplayHttpServer server;
  server.route("GET", "/events", {ReplayResponse::stream({{"data: one\n\n", 0ms}, {"data: two\n\n", 60ms},
                                                          {"data: [DONE]\n\n", 60ms}})});
  const HttpResponse response = HttpClient(fast_http()).get(server.url("/events"));
  EXPECT_EQ(response.body, "data: one\n\ndata: two\n\ndata: [DONE]\n\n");
  EXPECT_EQ(response.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(response.header("transfer-encoding"), "chunked");
  EXPECT_GE(response.elapsed_ms, 110.0);
}

TEST(HttpClientReplay, RoutesByQueryAndRecordsHeaders) {
  ReplayHttpServer server;
  server.route("GET", "/search", {ReplayResponse::text(200, "page two")}, {{"pageno", "2"}});
  server.route("GET", "/search", {ReplayResponse::text(200, "any page")});
  HttpClient client(fast_http());
  EXPECT_EQ(client.get(server.url("/search"), {{"q", "x"}, {"pageno", "2"}}, {{"X-Trace", "abc"}}).body, "page two");
  EXPECT_EQ(client.get(server.url("/search"), {{"q", "x"}, {"pageno", "1"}}).body, "any page");
  try {
    client.get(server.url("/elsewhere"));
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 404);
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].header("x-trace"), "abc");
  EXPECT_EQ(requests[2].path, "/elsewhere");
}

// http_fetch --------------------------------------------------------------------------------------------

TEST(HttpFetch, ExtractsTextAndTitleFromHtml) {
  ReplayHttpServer server;
  server.route("GET", "/page.html", {ReplayResponse::file(200, "page.html", "text/html; charset=utf-8")});
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/page.html")}});
  ASSERT_TRUE(result.ok()) << result.error;
  const json& r = result.value;
  EXPECT_EQ(r["title"], "Chorus & Friends \u2014 Field Guide");
  EXPECT_EQ(r["text"],
            "Home | Docs\n\nField Guide\n\nAgents exchange messages and call tools. Caf\u00e9 costs \u20ac3 < "
            "\u20ac4.\n\n- First point\n- Second point\n\ncell 1 cell 2\n\nDone.\nNext line.");
  EXPECT_EQ(r["status"], 200);
  EXPECT_EQ(r["content_type"], "text/html");
  EXPECT_EQ(r["truncated"], false);
  EXPECT_EQ(r["final_url"], server.url("/page.html"));
}

TEST(HttpFetch, ReturnsJsonAndPlainTextAsIs) {
  ReplayHttpServer server;
  server.route("GET", "/data.json", {ReplayResponse::json(200, R"({"a": [1, 2]})")});
  server.route("GET", "/notes.txt", {ReplayResponse::text(200, "line 1\n  line 2\n")});
  auto data = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/data.json")}});
  ASSERT_TRUE(data.ok()) << data.error;
  EXPECT_EQ(data.value["text"], R"({"a": [1, 2]})");
  EXPECT_EQ(data.value["content_type"], "application/json");
  EXPECT_FALSE(data.value.contains("title"));
  auto notes = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/notes.txt")}});
  ASSERT_TRUE(notes.ok()) << notes.error;
  EXPECT_EQ(notes.value["text"], "line 1\n  line 2\n");
}

TEST(HttpFetch, RefusesBinaryContent) {
  ReplayHttpServer server;
  server.route("GET", "/logo.png", {ReplayResponse::text(200, std::string("\x89PNG\r\n\x1a\n\0\0", 10), "image/png")});
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/logo.png")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "binary content (image/png)")) << result.error;
}

TEST(HttpFetch, TruncatesLargeBodiesWithAMarker) {
  ReplayHttpServer server;
  std::string html = "<html><head><title>Big</title></head><body>";
  for (int i = 0; i < 500; ++i) html += "<p>paragraph " + std::to_string(i) + "</p>";
  html += "</body></html>";
  server.route("GET", "/big.html", {ReplayResponse::text(200, html, "text/html")});
  HttpFetchOptions options = fetch_options();
  options.max_bytes = 2000;
  auto result = call(make_http_fetch_tool(options), {{"url", server.url("/big.html")}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["truncated"], true);
  EXPECT_EQ(result.value["bytes"], 2000);
  EXPECT_EQ(result.value["title"], "Big");
  const std::string text = result.value["text"];
  EXPECT_TRUE(text.starts_with("paragraph 0\n\nparagraph 1")) << text.substr(0, 100);
  EXPECT_TRUE(text.ends_with("[... truncated: the response was larger than 2000 bytes]")) << text;
  EXPECT_FALSE(contains(text, "paragraph 499"));
}

TEST(HttpFetch, HostNotInAllowlistIsRefusedWithoutARequest) {
  ReplayHttpServer server;
  server.route("GET", "/page.html", {ReplayResponse::file(200, "page.html", "text/html")});
  auto result = call(make_http_fetch_tool(fetch_options({"example.org", "*.wikipedia.org"})),
                     {{"url", server.url("/page.html")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "host 127.0.0.1 is not allowed")) << result.error;
  EXPECT_TRUE(contains(result.error, "example.org, *.wikipedia.org")) << result.error;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(HttpFetch, EmptyAllowlistExplainsHowToAllow) {
  ReplayHttpServer server;
  auto result = call(make_http_fetch_tool(fetch_options({})), {{"url", server.url("/page.html")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "CHORUS_HTTP_FETCH_ALLOW")) << result.error;
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(HttpFetch, OnlyHttpAndHttpsSchemes) {
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "not a url"}) {
    auto result = call(make_http_fetch_tool(fetch_options({"*"})), {{"url", url}});
    ASSERT_FALSE(result.ok()) << url;
    EXPECT_TRUE(contains(result.error, "http")) << result.error;
  }
}

TEST(HttpFetch, FollowsRedirectsWithinTheAllowlist) {
  ReplayHttpServer server;
  server.route("GET", "/old", {ReplayResponse::redirect(301, "/new.txt")});
  server.route("GET", "/new.txt", {ReplayResponse::text(200, "moved content")});
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/old")}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["text"], "moved content");
  EXPECT_EQ(result.value["final_url"], server.url("/new.txt"));
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(HttpFetch, RedirectToADisallowedHostIsRefused) {
  ReplayHttpServer server;
  server.route("GET", "/leak", {ReplayResponse::redirect(302, "http://evil.example.com/steal?x=1")});
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/leak")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "redirect from 127.0.0.1 to evil.example.com refused")) << result.error;
  EXPECT_EQ(server.request_count(), 1u);
}

TEST(HttpFetch, RedirectLoopStops) {
  ReplayHttpServer server;
  server.route("GET", "/loop", {ReplayResponse::redirect(302, "/loop")});
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/loop")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "stopped after 5 redirects")) << result.error;
  EXPECT_EQ(server.request_count(), 6u);
}

TEST(HttpFetch, NotFoundIsAToolError) {
  ReplayHttpServer server;
  auto result = call(make_http_fetch_tool(fetch_options()), {{"url", server.url("/missing")}});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(contains(result.error, "HTTP 404 Not Found")) << result.error;
}

// Registration from the environment -------------------------------------------------------------------------

TEST(WebTools, RegistersAllFourConfiguredFromTheEnvironment) {
  ReplayHttpServer server;
  server.route("GET", "/api/query", {ReplayResponse::file(200, "arxiv-feed.xml", "application/atom+xml")});
  server.route("GET", "/api/v1/llm-api", {ReplayResponse::text(200, "Result:\n4")});
  server.route("GET", "/search", {ReplayResponse::file(200, "searxng-results.json", "application/json")});
  server.route("GET", "/page.html", {ReplayResponse::file(200, "page.html", "text/html")});
  ScopedEnv arxiv("CHORUS_ARXIV_URL", server.base_url());
  ScopedEnv wolfram("CHORUS_WOLFRAM_URL", server.base_url());
  ScopedEnv appid("WOLFRAM_ALPHA_APPID", "ENV-APPID");
  ScopedEnv searx("CHORUS_SEARXNG_URL", server.base_url());
  ScopedEnv allow("CHORUS_HTTP_FETCH_ALLOW", "example.org, 127.0.0.1");
  ScopedEnv agent("CHORUS_HTTP_USER_AGENT", "chorus-test/1");
  ToolRegistry registry;
  register_web_tools(registry);
  std::vector<std::string> names;
  for (const Tool* tool : registry.list()) names.push_back(tool->spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"arxiv_search", "http_fetch", "web_search", "wolfram_alpha"}));
  for (const Tool* tool : registry.list()) EXPECT_FALSE(tool->spec.description.empty());

  EXPECT_TRUE(registry.call("arxiv_search", {{"query", "agents"}}).ok());
  EXPECT_TRUE(registry.call("wolfram_alpha", {{"input", "2+2"}}).ok());
  EXPECT_TRUE(registry.call("web_search", {{"query", "agents"}}).ok());
  EXPECT_TRUE(registry.call("http_fetch", {{"url", server.url("/page.html")}}).ok());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].param("appid"), "ENV-APPID");
  for (const auto& r : requests) EXPECT_EQ(r.header("user-agent"), "chorus-test/1");
}

TEST(WebTools, OptionsFromEnvironmentUseDocumentedDefaults) {
  ::unsetenv("CHORUS_ARXIV_URL");
  ::unsetenv("CHORUS_WOLFRAM_URL");
  ::unsetenv("CHORUS_SEARXNG_URL");
  ::unsetenv("CHORUS_HTTP_FETCH_ALLOW");
  EXPECT_EQ(ArxivOptions::from_environment().base_url, "https://export.arxiv.org");
  EXPECT_EQ(WolframAlphaOptions::from_environment().base_url, "https://www.wolframalpha.com");
  EXPECT_EQ(WebSearchOptions::from_environment().base_url, "");
  EXPECT_TRUE(HttpFetchOptions::from_environment().allowed_hosts.empty());
  EXPECT_EQ(HttpFetchOptions::from_environment().max_bytes, 2u << 20);
  ScopedEnv timeout("CHORUS_HTTP_TIMEOUT_MS", "1234");
  ScopedEnv retries("CHORUS_HTTP_RETRIES", "4");
  ScopedEnv max("CHORUS_HTTP_FETCH_MAX_BYTES", "4096");
  EXPECT_EQ(ArxivOptions::from_environment().http.timeout_ms, 1234);
  EXPECT_EQ(WebSearchOptions::from_environment().http.retries, 4);
  EXPECT_EQ(HttpFetchOptions::from_environment().max_bytes, 4096u);
}

}  // namespace
}  // namespace chorus::tools
