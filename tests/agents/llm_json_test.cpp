// The JSON forms of LLM messages, requests and responses (journal records, traces, scripted provider files),
// and make_llm_provider's dispatch and error messages.
#include "agents/llm.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace chorus::agents {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string invalid_argument_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

LlmResponse sample_response() {
  LlmResponse r;
  r.content = "Let me check.";
  r.tool_calls.push_back({"call_9", "get_weather", "{\"city\": \"Paris\"}"});
  r.tool_calls.push_back({"call_10", "calculator", "{\"expression\": \"2+"});  // malformed on purpose
  r.finish_reason = "tool_calls";
  r.usage.prompt_tokens = 123;
  r.usage.completion_tokens = 45;
  r.model = "gpt-4o-mini-2024-07-18";
  r.elapsed_ms = 812.5;
  return r;
}

void expect_same(const LlmResponse& a, const LlmResponse& b) {
  EXPECT_EQ(a.content, b.content);
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size());
  for (std::size_t i = 0; i < a.tool_calls.size(); ++i) {
    EXPECT_EQ(a.tool_calls[i].id, b.tool_calls[i].id);
    EXPECT_EQ(a.tool_calls[i].name, b.tool_calls[i].name);
    EXPECT_EQ(a.tool_calls[i].arguments_text, b.tool_calls[i].arguments_text);
  }
  EXPECT_EQ(a.finish_reason, b.finish_reason);
  EXPECT_EQ(a.usage.prompt_tokens, b.usage.prompt_tokens);
  EXPECT_EQ(a.usage.completion_tokens, b.usage.completion_tokens);
  EXPECT_EQ(a.model, b.model);
  EXPECT_DOUBLE_EQ(a.elapsed_ms, b.elapsed_ms);
}

TEST(LlmJson, ResponseRoundTripsThroughJsonAndText) {
  const LlmResponse original = sample_response();
  const json j = to_json(original);
  EXPECT_EQ(j["tool_calls"][1]["arguments"], "{\"expression\": \"2+");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 123);
  expect_same(response_from_json(j), original);
  expect_same(response_from_json(json::parse(j.dump())), original);
}

TEST(LlmJson, ResponseFromJsonAcceptsTheShortForms) {
  const LlmResponse text = response_from_json("just text");
  EXPECT_EQ(text.content, "just text");
  EXPECT_EQ(text.finish_reason, "stop");

  const LlmResponse r = response_from_json(json::parse(R"J({
    "tool_calls": [
      {"name": "get_weather", "arguments": {"city": "Paris"}},
      {"id": "call_x", "type": "function", "function": {"name": "calculator", "arguments": "{\"expression\": \"1\"}"}}
    ]})J"));
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.finish_reason, "tool_calls");  // derived from the calls
  ASSERT_EQ(r.tool_calls.size(), 2u);
  EXPECT_EQ(r.tool_calls[0].id, "call_1");
  EXPECT_EQ(json::parse(r.tool_calls[0].arguments_text), json({{"city", "Paris"}}));
  EXPECT_EQ(r.tool_calls[1].id, "call_x");
  EXPECT_EQ(r.tool_calls[1].name, "calculator");
  EXPECT_EQ(r.tool_calls[1].arguments_text, "{\"expression\": \"1\"}");
  EXPECT_EQ(r.usage.prompt_tokens, 0);
}

TEST(LlmJson, ResponseFromJsonNamesTheBadField) {
  EXPECT_TRUE(contains(invalid_argument_of([] { response_from_json(json::parse(R"({"content": 5})")); }),
                       "response.content must be a string"));
  EXPECT_TRUE(contains(
      invalid_argument_of([] { response_from_json(json::parse(R"({"tool_calls": [{"arguments": {}}]})")); }),
      "response.tool_calls[0].name is required"));
  EXPECT_TRUE(contains(invalid_argument_of([] { response_from_json(json::parse(R"({"tool_calls": {}})")); }),
                       "response.tool_calls must be a list"));
  EXPECT_TRUE(contains(
      invalid_argument_of([] { response_from_json(json::parse(R"({"usage": {"prompt_tokens": -1}})")); }),
      "response.usage.prompt_tokens must be a whole number"));
  EXPECT_TRUE(contains(invalid_argument_of([] { response_from_json(json(42)); }), "must be an object"));
}

TEST(LlmJson, MessagesAndRequestsKeepEveryFieldThatIsSet) {
  ChatMessage assistant{"assistant", "", {{"call_1", "get_weather", "{}"}}, "", ""};
  EXPECT_EQ(to_json(assistant), json::parse(R"({"role": "assistant", "content": "",
      "tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": "{}"}]})"));
  ChatMessage tool{"tool", "{\"temp_c\": 21}", {}, "call_1", "get_weather"};
  EXPECT_EQ(to_json(tool), json::parse(R"({"role": "tool", "content": "{\"temp_c\": 21}",
      "tool_call_id": "call_1", "name": "get_weather"})"));

  LlmRequest request;
  request.messages = {{"user", "hi", {}, "", ""}};
  EXPECT_EQ(to_json(request), json::parse(R"({"messages": [{"role": "user", "content": "hi"}]})"));
  request.tools = json::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  request.tool_choice = "required";
  request.temperature = 0.5;
  request.max_tokens = 10;
  request.stop = {"\n\n"};
  request.seed = 3;
  const json j = to_json(request);
  EXPECT_EQ(j["tools"], request.tools);
  EXPECT_EQ(j["tool_choice"], "required");
  EXPECT_DOUBLE_EQ(j["temperature"].get<double>(), 0.5);
  EXPECT_EQ(j["max_tokens"], 10);
  EXPECT_EQ(j["stop"], json::array({"\n\n"}));
  EXPECT_EQ(j["seed"], 3);
}

TEST(LlmProviderFactory, DispatchesOnProviderAndRejectsUnknownOnes) {
  EXPECT_EQ(make_llm_provider({{"provider", "openai"}, {"model", "gpt-4o-mini"}}, ".")->describe(),
            "openai:gpt-4o-mini");
#if __has_include("agents/scripted-provider.h")
  EXPECT_TRUE(make_llm_provider({{"provider", "scripted"}, {"responses", {"hi"}}}, ".")->describe().starts_with("scripted"));
#endif
  EXPECT_EQ(invalid_argument_of([] { make_llm_provider({{"provider", "anthropic"}}, "."); }),
            "llm.provider 'anthropic' is unknown; use one of: openai, local, scripted");
  EXPECT_TRUE(contains(invalid_argument_of([] { make_llm_provider({{"model", "m"}}, "."); }),
                       "llm.provider is missing"));
  EXPECT_TRUE(contains(invalid_argument_of([] { make_llm_provider(json::array(), "."); }), "llm must be a mapping"));
  EXPECT_TRUE(contains(invalid_argument_of([] { make_llm_provider({{"provider", "openai"}}, "."); }),
                       "llm.model is required"));
}

}  // namespace
}  // namespace chorus::agents
