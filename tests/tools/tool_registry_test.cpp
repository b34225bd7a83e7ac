// ToolRegistry: registration rules, validation before the handler runs, failures as results, OpenAI export.
#include "tools/tool-registry.h"

#include <gtest/gtest.h>

namespace chorus::tools {
namespace {

Tool echo_tool(int* calls = nullptr) {
  Tool t;
  t.spec.name = "echo";
  t.spec.description = "Returns its text";
  t.spec.parameters = {{"type", "object"},
                       {"properties", {{"text", {{"type", "string"}}}}},
                       {"required", {"text"}},
                       {"additionalProperties", false}};
  t.handler = [calls](const nlohmann::json& args) {
    if (calls) ++*calls;
    if (args["text"] == "fail") throw ToolError("asked to fail");
    if (args["text"] == "crash") throw std::runtime_error("boom");
    return nlohmann::json{{"text", args["text"]}};
  };
  return t;
}

TEST(ToolRegistry, CallsHandlerWithValidArguments) {
  ToolRegistry registry;
  registry.add(echo_tool());
  auto result = registry.call("echo", {{"text", "hi"}});
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.value["text"], "hi");
  EXPECT_GE(result.elapsed_ms, 0.0);
  EXPECT_EQ(result.to_json()["status"], "ok");
}

TEST(ToolRegistry, InvalidArgumentsNeverReachTheHandler) {
  ToolRegistry registry;
  int calls = 0;
  registry.add(echo_tool(&calls));
  auto wrong_type = registry.call("echo", {{"text", 5}});
  EXPECT_EQ(wrong_type.status, CallStatus::invalid_arguments);
  EXPECT_NE(wrong_type.error.find("/text: expected string, got"), std::string::npos) << wrong_type.error;
  auto missing = registry.call("echo", nlohmann::json::object());
  EXPECT_EQ(missing.status, CallStatus::invalid_arguments);
  auto not_json = registry.call_text("echo", "{\"text\": ");
  EXPECT_EQ(not_json.status, CallStatus::invalid_arguments);
  EXPECT_NE(not_json.error.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(calls, 0);
}

TEST(ToolRegistry, FailuresBecomeResultsWithMessages) {
  ToolRegistry registry;
  registry.add(echo_tool());
  auto failed = registry.call("echo", {{"text", "fail"}});
  EXPECT_EQ(failed.status, CallStatus::failed);
  EXPECT_EQ(failed.error, "asked to fail");
  auto crashed = registry.call("echo", {{"text", "crash"}});
  EXPECT_EQ(crashed.status, CallStatus::failed);
  EXPECT_EQ(crashed.error, "tool 'echo' failed: boom");
  auto unknown = registry.call("ecko", {{"text", "x"}});
  EXPECT_EQ(unknown.status, CallStatus::unknown_tool);
  EXPECT_NE(unknown.error.find("available tools: echo"), std::string::npos);
}

TEST(ToolRegistry, ResultSchemaIsEnforced) {
  ToolRegistry registry;
  Tool t = echo_tool();
  t.spec.result_schema = nlohmann::json{{"type", "object"}, {"required", {"length"}}};
  registry.add(t);
  auto result = registry.call("echo", {{"text", "x"}});
  EXPECT_EQ(result.status, CallStatus::failed);
  EXPECT_NE(result.error.find("breaks its own schema"), std::string::npos) << result.error;
}

TEST(ToolRegistry, RejectsBadRegistrations) {
  ToolRegistry registry;
  registry.add(echo_tool());
  EXPECT_THROW(registry.add(echo_tool()), std::invalid_argument);  // duplicate
  Tool bad_name = echo_tool();
  bad_name.spec.name = "has space";
  EXPECT_THROW(registry.add(bad_name), std::invalid_argument);
  Tool not_object = echo_tool();
  not_object.spec.name = "other";
  not_object.spec.parameters = {{"type", "string"}};
  EXPECT_THROW(registry.add(not_object), std::invalid_argument);
  Tool bad_schema = echo_tool();
  bad_schema.spec.name = "third";
  bad_schema.spec.parameters["properties"]["text"]["minLength"] = "three";
  EXPECT_THROW(registry.add(bad_schema), std::invalid_argument);
  Tool no_handler = echo_tool();
  no_handler.spec.name = "fourth";
  no_handler.handler = nullptr;
  EXPECT_THROW(registry.add(no_handler), std::invalid_argument);
  EXPECT_EQ(registry.list().size(), 1u);
}

TEST(ToolRegistry, ExportsOpenAIFunctionTools) {
  ToolRegistry registry;
  registry.add(echo_tool());
  auto tools = registry.openai_tools();
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0]["type"], "function");
  EXPECT_EQ(tools[0]["function"]["name"], "echo");
  EXPECT_EQ(tools[0]["function"]["description"], "Returns its text");
  EXPECT_EQ(tools[0]["function"]["parameters"]["required"], nlohmann::json({"text"}));
}

}  // namespace
}  // namespace chorus::tools
