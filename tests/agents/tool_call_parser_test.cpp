// Tool calls in the text real models emit: Hermes/Qwen <tool_call> blocks and Llama 3 JSON calls.
#include "agents/tool-call-parser.h"

#include <gtest/gtest.h>

namespace chorus::agents {
namespace {

TEST(ToolCallParser, PlainTextIsContentWithNoCalls) {
  auto r = parse_tool_calls("  The answer is 4.\n");
  EXPECT_EQ(r.content, "  The answer is 4.\n");
  EXPECT_TRUE(r.calls.empty());
  EXPECT_TRUE(r.errors.empty());
}

TEST(ToolCallParser, HermesSingleCallWithTextAround) {
  auto r = parse_tool_calls(
      "Let me compute that.\n<tool_call>\n{\"name\": \"calculator\", \"arguments\": {\"expression\": \"2 + 2\"}}\n"
      "</tool_call>\nOne moment.");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].id, "call_0");
  EXPECT_EQ(r.calls[0].name, "calculator");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"expression":"2 + 2"})");
  EXPECT_EQ(r.content, "Let me compute that.\n\nOne moment.");
  EXPECT_TRUE(r.errors.empty());
}

TEST(ToolCallParser, HermesSeveralCallsNumberedInOrderAndKeyOrderKept) {
  auto r = parse_tool_calls(
      "<tool_call>{\"name\": \"b\", \"arguments\": {\"z\": 1, \"a\": [1, 2]}}</tool_call>\n"
      "<tool_call>\n  {\"name\":\"a\",\n   \"arguments\": {}}\n</tool_call>"
      "<tool_call>{\"name\": \"c\", \"arguments\": {\"s\": \"x\\\"y\"}}</tool_call>");
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].id, "call_0");
  EXPECT_EQ(r.calls[0].name, "b");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"z":1,"a":[1,2]})");
  EXPECT_EQ(r.calls[1].id, "call_1");
  EXPECT_EQ(r.calls[1].name, "a");
  EXPECT_EQ(r.calls[1].arguments_text, "{}");
  EXPECT_EQ(r.calls[2].id, "call_2");
  EXPECT_EQ(r.calls[2].arguments_text, R"({"s":"x\"y"})");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallParser, HermesArgumentsAsJsonString) {
  auto r = parse_tool_calls(
      "<tool_call>{\"name\": \"calendar\", \"arguments\": \"{\\\"date\\\": \\\"2024-05-01\\\", \\\"n\\\": 3}\"}"
      "</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "calendar");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"date":"2024-05-01","n":3})");
}

TEST(ToolCallParser, HermesArgumentsStringThatIsNotJsonIsKeptRaw) {
  auto r = parse_tool_calls(R"(<tool_call>{"name": "echo", "arguments": "{not json"}</tool_call>)");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "echo");
  EXPECT_EQ(r.calls[0].arguments_text, "{not json");
}

TEST(ToolCallParser, HermesParametersKeyAndMissingArguments) {
  auto r = parse_tool_calls(
      R"(<tool_call>{"name": "x", "parameters": {"k": true}}</tool_call><tool_call>{"name": "now"}</tool_call>)");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].arguments_text, R"({"k":true})");
  EXPECT_EQ(r.calls[1].name, "now");
  EXPECT_EQ(r.calls[1].arguments_text, "{}");
}

TEST(ToolCallParser, HermesUnterminatedFinalCallAtEndOfGeneration) {
  auto r = parse_tool_calls("Checking.\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"cats\"}}\n");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "search");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"q":"cats"})");
  EXPECT_EQ(r.content, "Checking.");
  EXPECT_TRUE(r.errors.empty());
}

TEST(ToolCallParser, HermesTruncatedFinalCallIsAnError) {
  auto r = parse_tool_calls(
      "<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call>\n<tool_call>\n{\"name\": \"search\", \"argum");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "a");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "\n{\"name\": \"search\", \"argum");
  EXPECT_EQ(r.errors[0].name, "search");
  EXPECT_NE(r.errors[0].message.find("not closed"), std::string::npos) << r.errors[0].message;
}

TEST(ToolCallParser, HermesMalformedJsonGivesAnErrorWithTheRawText) {
  const std::string body = "\n{\"name\": \"calculator\", \"arguments\": {\"expression\": 2 +}}\n";
  auto r = parse_tool_calls("Sure.<tool_call>" + body + "</tool_call>");
  EXPECT_TRUE(r.calls.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, body);
  EXPECT_EQ(r.errors[0].name, "calculator");
  EXPECT_NE(r.errors[0].message.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(r.content, "Sure.");
}

TEST(ToolCallParser, HermesBlockWithoutNameOrEmptyIsAnError) {
  auto r = parse_tool_calls("<tool_call>{\"arguments\": {}}</tool_call><tool_call>  </tool_call>");
  EXPECT_TRUE(r.calls.empty());
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].message.find("name"), std::string::npos);
  EXPECT_EQ(r.errors[0].name, "");
  EXPECT_NE(r.errors[1].message.find("empty"), std::string::npos);
}

TEST(ToolCallParser, HermesListOfCallsAndCodeFenceAndOpenAiShape) {
  auto r = parse_tool_calls(
      "<tool_call>[{\"name\": \"a\", \"arguments\": {\"x\": 1}}, {\"name\": \"b\", \"arguments\": {}}]</tool_call>"
      "<tool_call>\n```json\n{\"name\": \"c\", \"arguments\": {}}\n```\n</tool_call>"
      "<tool_call>{\"type\": \"function\", \"function\": {\"name\": \"d\", \"arguments\": \"{}\"}}</tool_call>");
  ASSERT_EQ(r.calls.size(), 4u);
  EXPECT_EQ(r.calls[0].name, "a");
  EXPECT_EQ(r.calls[1].name, "b");
  EXPECT_EQ(r.calls[2].name, "c");
  EXPECT_EQ(r.calls[3].name, "d");
  EXPECT_EQ(r.calls[3].id, "call_3");
  EXPECT_TRUE(r.errors.empty());
}

TEST(ToolCallParser, Llama3WholeMessageJson) {
  auto r = parse_tool_calls("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 2}}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].id, "call_0");
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"city":"Paris","days":2})");
  EXPECT_EQ(r.content, "");
}

TEST(ToolCallParser, Llama3WithPythonTag) {
  auto r = parse_tool_calls("<|python_tag|>{\"name\": \"search\", \"parameters\": {\"query\": \"a; b\"}}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "search");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"query":"a; b"})");
  EXPECT_TRUE(r.errors.empty());
}

TEST(ToolCallParser, Llama3SeveralCallsSeparatedBySemicolons) {
  auto r = parse_tool_calls(
      "\n{\"name\": \"a\", \"parameters\": {\"s\": \"};{\"}}; {\"name\": \"b\", \"parameters\": {}};\n"
      "{\"name\": \"c\", \"arguments\": {\"n\": 1}}\n");
  ASSERT_EQ(r.calls.size(), 3u);
  EXPECT_EQ(r.calls[0].name, "a");
  EXPECT_EQ(r.calls[0].arguments_text, R"({"s":"};{"})");
  EXPECT_EQ(r.calls[1].name, "b");
  EXPECT_EQ(r.calls[1].id, "call_1");
  EXPECT_EQ(r.calls[2].name, "c");
  EXPECT_EQ(r.calls[2].arguments_text, R"({"n":1})");
}

TEST(ToolCallParser, JsonThatIsNotACallStaysContent) {
  for (const std::string& text : {std::string(R"({"name": "Ada", "age": 36})"), std::string(R"({"answer": 4})"),
                                 std::string(R"({"name": "a", "parameters": {}} and some words)"),
                                 std::string(R"({"name": "a", "parameters": {)")}) {
    auto r = parse_tool_calls(text);
    EXPECT_TRUE(r.calls.empty()) << text;
    EXPECT_TRUE(r.errors.empty()) << text;
    EXPECT_EQ(r.content, text);
  }
}

TEST(ToolCallParser, PythonTagWithMalformedJsonIsAnError) {
  auto r = parse_tool_calls("I will search.<|python_tag|>{\"name\": \"search\", \"parameters\": {\"q\": }}");
  EXPECT_TRUE(r.calls.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "{\"name\": \"search\", \"parameters\": {\"q\": }}");
  EXPECT_EQ(r.errors[0].name, "search");
  EXPECT_EQ(r.content, "I will search.");
}

TEST(ToolCallParser, PythonTagWithUnclosedSecondCallKeepsTheFirst) {
  auto r = parse_tool_calls("<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"param");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "a");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].raw, "{\"name\": \"b\", \"param");
  EXPECT_EQ(r.errors[0].name, "b");
}

TEST(ToolCallParser, ErrorsBecomeCallsAfterTheGoodOnesSoTheToolLoopReportsThem) {
  auto calls = calls_with_errors(parse_tool_calls(
      "<tool_call>{\"name\": \"calc\", \"arguments\": {bad}}</tool_call>"
      "<tool_call>{\"name\": \"now\", \"arguments\": {}}</tool_call><tool_call>oops</tool_call>"));
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].id, "call_0");
  EXPECT_EQ(calls[0].name, "now");
  EXPECT_EQ(calls[0].arguments_text, "{}");
  EXPECT_EQ(calls[1].id, "call_1");
  EXPECT_EQ(calls[1].name, "calc");
  EXPECT_EQ(calls[1].arguments_text, "{\"name\": \"calc\", \"arguments\": {bad}}");
  EXPECT_EQ(calls[2].id, "call_2");
  EXPECT_EQ(calls[2].name, "");
  EXPECT_EQ(calls[2].arguments_text, "oops");
}

}  // namespace
}  // namespace chorus::agents
