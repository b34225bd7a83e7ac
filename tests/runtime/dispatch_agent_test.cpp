// The "dispatch" kind: splitting a task into sub-questions, sending each to another agent, joining the answers.
#include "runtime/dispatch-agent.h"

#include "runtime/agent-error.h"
#include "runtime/local-runtime.h"
#include "runtime/task-message.h"

#include <gtest/gtest.h>

#include <mutex>
#include <stdexcept>
#include <vector>

namespace chorus::runtime {
namespace {

using nlohmann::json;

// Answers a task with "answer to: <description>", counting 10 + 5 tokens, 2 turns and 1 tool call.
class AnsweringAgent final : public Agent {
 public:
  explicit AnsweringAgent(std::vector<std::string>* seen, std::mutex* mutex) : seen_(seen), mutex_(mutex) {}
  boost::asio::awaitable<json> on_message(const Message& message, AgentContext& context) override {
    TaskRequest request = TaskRequest::from_json(message.payload);
    {
      std::lock_guard lock(*mutex_);
      seen_->push_back(context.self().key + " | " + request.task + " | " + request.description);
    }
    if (request.description.find("fail") != std::string::npos)
      throw AgentError(StatusCode::failed, "cannot answer " + request.description);
    TaskReply reply;
    reply.output = "answer to: " + request.description;
    reply.prompt_tokens = 10;
    reply.completion_tokens = 5;
    reply.turns = 2;
    reply.tool_calls = 1;
    co_return reply.to_json();
  }

 private:
  std::vector<std::string>* seen_;
  std::mutex* mutex_;
};

json dispatch_spec(json options) { return {{"name", "planner"}, {"kind", "dispatch"}, {"options", options}}; }

TEST(SplitSubQuestions, ListMarkersWinOverPlainLines) {
  EXPECT_EQ(split_sub_questions("Answer these:\n- What is 2+2?\n* What day is it?\n3. Third\n4) Fourth\n"),
            (std::vector<std::string>{"What is 2+2?", "What day is it?", "Third", "Fourth"}));
  EXPECT_EQ(split_sub_questions("  first line \n\n second line"), (std::vector<std::string>{"first line", "second line"}));
  EXPECT_EQ(split_sub_questions("-5 is negative\n2.5 is a number"),  // no space after the marker: not a list
            (std::vector<std::string>{"-5 is negative", "2.5 is a number"}));
  EXPECT_TRUE(split_sub_questions(" \n\n").empty());
}

TEST(DispatchAgent, SendsEachSubQuestionAndJoinsTheAnswers) {
  LocalRuntime runtime;
  std::vector<std::string> seen;
  std::mutex mutex;
  runtime.register_factory("planner", [](const AgentId&) { return make_dispatch_agent(dispatch_spec({{"to", "solver"}})); });
  runtime.register_factory("solver", [&](const AgentId&) { return std::make_unique<AnsweringAgent>(&seen, &mutex); });
  TaskRequest request;
  request.task = "answer";
  request.description = "- What is 2+2?\n- What day is it?";
  json raw = runtime.send_and_wait(make_request(AgentId{"planner", "run1/answer"}, request.to_json()));
  TaskReply reply = TaskReply::from_json(raw);
  EXPECT_EQ(reply.output, "1. What is 2+2?\n   → answer to: What is 2+2?\n2. What day is it?\n   → answer to: What day is it?");
  EXPECT_EQ(reply.prompt_tokens, 20);
  EXPECT_EQ(reply.completion_tokens, 10);
  EXPECT_EQ(reply.turns, 4);
  EXPECT_EQ(reply.tool_calls, 2);
  ASSERT_EQ(reply.details["sub_tasks"].size(), 2u);
  EXPECT_EQ(reply.details["sub_tasks"][1]["agent"], "solver/run1/answer/2");
  EXPECT_EQ(seen, (std::vector<std::string>{"run1/answer/1 | answer/1 | What is 2+2?",
                                            "run1/answer/2 | answer/2 | What day is it?"}));
}

TEST(DispatchAgent, JsonOutputAndFailuresOfASubTask) {
  LocalRuntime runtime;
  std::vector<std::string> seen;
  std::mutex mutex;
  runtime.register_factory("planner", [](const AgentId&) {
    return make_dispatch_agent(dispatch_spec({{"to", "solver"}, {"output", "json"}}));
  });
  runtime.register_factory("solver", [&](const AgentId&) { return std::make_unique<AnsweringAgent>(&seen, &mutex); });
  json raw = runtime.send_and_wait(make_request(AgentId{"planner", "k"}, json("one\ntwo")));
  EXPECT_EQ(TaskReply::from_json(raw).output,
            json::parse(R"([{"question":"one","answer":"answer to: one"},{"question":"two","answer":"answer to: two"}])"));
  try {
    runtime.send_and_wait(make_request(AgentId{"planner", "k2"}, json("- ok\n- fail here")));
    FAIL() << "a failing sub-task must fail the dispatch";
  } catch (const AgentError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot answer fail here"), std::string::npos) << e.what();
  }
  try {
    runtime.send_and_wait(make_request(AgentId{"planner", "k3"}, json("  \n")));
    FAIL() << "an empty task must be refused";
  } catch (const AgentError& e) {
    EXPECT_EQ(e.code(), StatusCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("no sub-questions"), std::string::npos) << e.what();
  }
}

TEST(DispatchAgent, BadOptionsAreClearErrors) {
  EXPECT_THROW(make_dispatch_agent(dispatch_spec(json::object())), std::invalid_argument);
  try {
    make_dispatch_agent(dispatch_spec({{"to", "planner"}}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("must name another agent"), std::string::npos);
  }
  try {
    make_dispatch_agent(dispatch_spec({{"to", "solver"}, {"output", "xml"}}));
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("`output` must be text or json"), std::string::npos);
  }
  AgentKindRegistry registry;
  add_builtin_kinds(registry);
  ASSERT_NE(registry.find("dispatch"), nullptr);
  EXPECT_EQ(registry.find("dispatch")->check(dispatch_spec(json::object())).size(), 1u);
  EXPECT_TRUE(registry.find("dispatch")->check(dispatch_spec({{"to", "solver"}})).empty());
}

}  // namespace
}  // namespace chorus::runtime
