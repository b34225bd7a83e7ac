// The scripted provider: turn selection from the request, script matching, tool calls, usage, errors,
// settings.
#include "agents/scripted-provider.h"

#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>

namespace chorus::agents {
namespace {

ChatMessage message(const std::string& role, const std::string& content) {
  ChatMessage m;
  m.role = role;
  m.content = content;
  return m;
}

// A request whose history holds `answered` assistant turns after the first user message.
LlmRequest request_after(const std::string& question, int answered) {
  LlmRequest r;
  r.messages.push_back(message("system", "be brief"));
  r.messages.push_back(message("user", question));
  for (int i = 0; i < answered; ++i) {
    r.messages.push_back(message("assistant", "turn " + std::to_string(i)));
    r.messages.push_back(message("user", "go on"));
  }
  return r;
}

std::string error_of(const nlohmann::json& settings, const std::string& base_dir = "") {
  try {
    ScriptedProvider provider(settings, base_dir);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ScriptedProvider, TurnIsTheNumberOfAssistantMessagesInTheRequest) {
  ScriptedProvider provider({{"provider", "scripted"}, {"responses", {"first", "second", "third"}}}, "");
  EXPECT_EQ(provider.complete(request_after("hi", 0)).content, "first");
  EXPECT_EQ(provider.complete(request_after("hi", 2)).content, "third");
  EXPECT_EQ(provider.complete(request_after("hi", 1)).content, "second");
  // Asking the same turn again gives the same answer (a resumed run sees what the crashed one saw).
  EXPECT_EQ(provider.complete(request_after("hi", 0)).content, "first");
  auto response = provider.complete(request_after("hi", 0));
  EXPECT_EQ(response.finish_reason, "stop");
  EXPECT_EQ(response.model, "scripted");
  EXPECT_TRUE(response.tool_calls.empty());
  EXPECT_EQ(provider.describe(), "scripted");
}

TEST(ScriptedProvider, FirstMatchingScriptEntryWinsElseTheDefaultResponses) {
  nlohmann::json settings = {
      {"provider", "scripted"},
      {"model", "demo"},
      {"responses", {"default answer"}},
      {"script",
       {{{"match", "weather"}, {"responses", {"sunny", "still sunny"}}},
        {{"match", "weather in Paris"}, {"responses", {"never chosen: the entry above matches first"}}},
        {{"match", "sum"}, {"responses", {"4"}}}}}};
  ScriptedProvider provider(settings, "");
  EXPECT_EQ(provider.complete(request_after("what is the weather in Paris?", 0)).content, "sunny");
  EXPECT_EQ(provider.complete(request_after("what is the weather in Paris?", 1)).content, "still sunny");
  EXPECT_EQ(provider.complete(request_after("the sum of 2 and 2", 0)).content, "4");
  EXPECT_EQ(provider.complete(request_after("tell me a joke", 0)).content, "default answer");
  // Only the first user message decides: a later "weather" does not switch lists.
  LlmRequest later = request_after("tell me a joke", 0);
  later.messages.push_back(message("user", "and the weather?"));
  EXPECT_EQ(later.messages.size(), 3u);
  EXPECT_EQ(provider.complete(later).content, "default answer");
  EXPECT_EQ(provider.describe(), "scripted:demo");
  EXPECT_EQ(provider.complete(later).model, "demo");
}

TEST(ScriptedProvider, ToolCallsKeepRawArgumentTextAndGetIds) {
  nlohmann::json settings = {{"provider", "scripted"},
                             {"responses",
                              {{{"content", "checking"},
                                {"tool_calls",
                                 {{{"name", "calculator"}, {"arguments", {{"expression", "2+2"}}}},
                                  {{"name", "calendar"}, {"arguments", "{\"date\": "}, {"id", "mine"}}}}}}}};
  ScriptedProvider provider(settings, "");
  auto response = provider.complete(request_after("q", 0));
  EXPECT_EQ(response.content, "checking");
  EXPECT_EQ(response.finish_reason, "tool_calls");
  ASSERT_EQ(response.tool_calls.size(), 2u);
  EXPECT_EQ(response.tool_calls[0].name, "calculator");
  EXPECT_EQ(response.tool_calls[0].arguments_text, R"({"expression":"2+2"})");
  EXPECT_EQ(response.tool_calls[0].id, "call_1_1");
  EXPECT_EQ(response.tool_calls[1].arguments_text, "{\"date\": ");
  EXPECT_EQ(response.tool_calls[1].id, "mine");
}

TEST(ScriptedProvider, UsageDefaultsToCharactersOverFourAndCanBeGiven) {
  ScriptedProvider provider(
      {{"provider", "scripted"},
       {"responses",
        {"12345678", {{"content", "x"}, {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 7}}}}}}},
      "");
  LlmRequest request;
  request.messages.push_back(message("user", std::string(40, 'a')));
  auto first = provider.complete(request);
  EXPECT_EQ(first.usage.prompt_tokens, 10);
  EXPECT_EQ(first.usage.completion_tokens, 2);
  request.messages.push_back(message("assistant", "1234"));
  auto second = provider.complete(request);
  EXPECT_EQ(second.usage.prompt_tokens, 100);
  EXPECT_EQ(second.usage.completion_tokens, 7);
}

TEST(ScriptedProvider, ErrorsDelaysAndFinishReason) {
  ScriptedProvider provider({{"provider", "scripted"},
                             {"responses",
                              {{{"error", "the model is down"}},
                               {{"content", "late"}, {"delay_ms", 30}, {"finish_reason", "length"}}}}},
                            "");
  try {
    provider.complete(request_after("q", 0));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    EXPECT_STREQ(e.what(), "the model is down");
    EXPECT_FALSE(e.retryable());
  }
  auto start = std::chrono::steady_clock::now();
  auto response = provider.complete(request_after("q", 1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_EQ(response.content, "late");
  EXPECT_EQ(response.finish_reason, "length");
}

TEST(ScriptedProvider, RunningOutOfResponsesSaysWhichTurnAndHowManyThereAre) {
  ScriptedProvider provider({{"provider", "scripted"},
                             {"responses", {"a", "b"}},
                             {"script", {{{"match", "special"}, {"responses", {"only one"}}}}}},
                            "");
  try {
    provider.complete(request_after("q", 2));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    std::string what = e.what();
    EXPECT_NE(
        what.find(
            "scripted provider: no response for turn 3 (the script has 2): the default `responses` ran out"),
        std::string::npos)
        << what;
    EXPECT_FALSE(e.retryable());
  }
  try {
    provider.complete(request_after("a special question", 1));
    FAIL() << "expected LlmError";
  } catch (const LlmError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("no response for turn 2 (the script has 1)"), std::string::npos) << what;
    EXPECT_NE(what.find("matching 'special'"), std::string::npos) << what;
  }
}

TEST(ScriptedProvider, RecordsEveryRequestReceived) {
  ScriptedProvider provider({{"provider", "scripted"}, {"responses", {"a", "b"}}}, "");
  provider.complete(request_after("first question", 0));
  provider.complete(request_after("second question", 1));
  auto received = provider.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].messages[1].content, "first question");
  EXPECT_EQ(received[1].messages.size(), 4u);
}

TEST(ScriptedProvider, RejectsUnknownKeysNamingThem) {
  std::string top =
      error_of({{"provider", "scripted"}, {"responses", {"a"}}, {"temprature", 1}, {"seeds", 2}});
  EXPECT_NE(top.find("unknown keys 'seeds', 'temprature'"), std::string::npos) << top;
  EXPECT_NE(top.find("allowed: provider, responses, script, file, model"), std::string::npos) << top;
  std::string nested = error_of({{"provider", "scripted"}, {"responses", {"ok", {{"contnet", "x"}}}}});
  EXPECT_NE(nested.find("llm.responses[1]: unknown key 'contnet'"), std::string::npos) << nested;
  std::string call =
      error_of({{"provider", "scripted"},
                {"responses", {{{"tool_calls", {{{"name", "calculator"}, {"args", "{}"}}}}}}}});
  EXPECT_NE(call.find("llm.responses[0].tool_calls[0]: unknown key 'args'"), std::string::npos) << call;
  std::string script =
      error_of({{"provider", "scripted"}, {"script", {{{"match", "x"}, {"answers", {"a"}}}}}});
  EXPECT_NE(script.find("llm.script[0]"), std::string::npos) << script;
}

TEST(ScriptedProvider, RejectsMalformedSettings) {
  EXPECT_NE(error_of({{"provider", "scripted"}}).find("no responses"), std::string::npos);
  EXPECT_NE(error_of({{"provider", "scripted"}, {"responses", "a"}}).find("llm.responses: must be a list"),
            std::string::npos);
  EXPECT_NE(error_of({{"provider", "scripted"}, {"responses", {42}}}).find("llm.responses[0]"),
            std::string::npos);
  EXPECT_NE(error_of({{"provider", "scripted"}, {"responses", {{{"delay_ms", -1}}}}}).find("delay_ms"),
            std::string::npos);
  EXPECT_NE(error_of({{"provider", "scripted"}, {"responses", {{{"usage", {{"prompt_tokens", "many"}}}}}}})
                .find("usage.prompt_tokens"),
            std::string::npos);
}

TEST(ScriptedProvider, ReadsResponsesFromAFileRelativeToTheBaseDir) {
  testing::TempDir dir("scripted");
  testing::write_file(dir / "answers.json",
                      R"({"model": "from-file", "responses": ["one", {"content": "two"}],
                          "script": [{"match": "hello", "responses": ["hi there"]}]})");
  ScriptedProvider provider({{"provider", "scripted"}, {"file", "answers.json"}}, dir.path().string());
  EXPECT_EQ(provider.complete(request_after("q", 1)).content, "two");
  EXPECT_EQ(provider.complete(request_after("hello you", 0)).content, "hi there");
  EXPECT_EQ(provider.describe(), "scripted:from-file");

  testing::write_file(dir / "list.json", R"(["only"])");
  ScriptedProvider from_list({{"provider", "scripted"}, {"file", (dir / "list.json").string()}},
                             "/elsewhere");
  EXPECT_EQ(from_list.complete(request_after("q", 0)).content, "only");

  std::string missing = error_of({{"provider", "scripted"}, {"file", "nope.json"}}, dir.path().string());
  EXPECT_NE(missing.find("cannot read file"), std::string::npos) << missing;
  EXPECT_NE(missing.find("nope.json"), std::string::npos) << missing;
  testing::write_file(dir / "bad.json", R"({"responses": ["a"], "extra": 1})");
  std::string bad = error_of({{"provider", "scripted"}, {"file", "bad.json"}}, dir.path().string());
  EXPECT_NE(bad.find("bad.json: unknown key 'extra'"), std::string::npos) << bad;
  testing::write_file(dir / "broken.json", "{");
  std::string broken = error_of({{"provider", "scripted"}, {"file", "broken.json"}}, dir.path().string());
  EXPECT_NE(broken.find("not valid JSON"), std::string::npos) << broken;
  std::string both = error_of({{"provider", "scripted"}, {"file", "list.json"}, {"responses", {"x"}}});
  EXPECT_NE(both.find("not both"), std::string::npos) << both;
}

TEST(ScriptedProvider, StreamsTheContentAsOneDelta) {
  ScriptedProvider provider({{"provider", "scripted"}, {"responses", {"streamed"}}}, "");
  std::string got;
  provider.complete(request_after("q", 0), [&](const std::string& delta) { got += delta; });
  EXPECT_EQ(got, "streamed");
}

TEST(ScriptedProvider, StopRequestCutsADelayShort) {
  ScriptedProvider provider({{"provider", "scripted"}, {"responses", {{{"content", "late"}, {"delay_ms", 5000}}}}},
                            "");
  std::stop_source source;
  LlmRequest request = request_after("q", 0);
  request.cancel = source.get_token();
  std::jthread stopper([&source] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    source.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  try {
    provider.complete(request);
    FAIL() << "expected the cancellation LlmError";
  } catch (const LlmError& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled: the step's deadline passed or the run was cancelled"),
              std::string::npos)
        << e.what();
    EXPECT_FALSE(e.retryable());
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(80));
  EXPECT_LT(took, std::chrono::milliseconds(1000));
}

TEST(ScriptedProvider, UnrequestedStopTokenStillWaitsTheWholeDelay) {
  ScriptedProvider provider({{"provider", "scripted"}, {"responses", {{{"content", "late"}, {"delay_ms", 50}}}}},
                            "");
  std::stop_source source;
  LlmRequest request = request_after("q", 0);
  request.cancel = source.get_token();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(provider.complete(request).content, "late");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace chorus::agents
