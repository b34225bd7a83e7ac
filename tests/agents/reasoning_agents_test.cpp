// The reasoning kinds on a real LocalRuntime with the scripted provider: inot (PromptCode in the system
// prompt, answer extraction and its fallbacks), cot, and the external debate between two scripted assistant
// agents.
#include "agents/agent-kinds.h"
#include "agents/assistant-agent.h"
#include "agents/reasoning-agents.h"
#include "agents/scripted-provider.h"
#include "runtime/agent-error.h"
#include "runtime/agent-kinds.h"
#include "runtime/local-runtime.h"
#include "runtime/task-message.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace chorus::agents {
namespace {

using nlohmann::json;
using runtime::AgentError;
using runtime::StatusCode;

std::shared_ptr<ScriptedProvider> scripted(json settings) {
  settings["provider"] = "scripted";
  return std::make_shared<ScriptedProvider>(settings, "");
}

json task(const std::string& description) {
  runtime::TaskRequest r;
  r.task = "solve";
  r.description = description;
  return r.to_json();
}

// Sends `payload` to `type`/default and waits for the reply.
json ask(runtime::LocalRuntime& rt, const std::string& type, json payload) {
  runtime::Message m = runtime::make_request(runtime::AgentId{type, "default"}, std::move(payload));
  m.trace_id = "run-1";
  return rt.send_and_wait(std::move(m));
}

template <class F>
std::string invalid_argument_text(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One single-call reasoner (inot or cot) named "thinker" on its own runtime.
struct Reasoner {
  Reasoner(const std::string& kind, json responses, json options = json::object()) {
    provider = scripted({{"responses", responses}});
    spec = {{"name", "thinker"}, {"kind", kind},       {"role", "a meticulous solver"},
            {"goal", ""},        {"instructions", ""}, {"llm", {{"provider", "scripted"}}},
            {"options", options}};
    rt.register_factory("thinker", [this, kind](const runtime::AgentId&) {
      return kind == "inot" ? make_inot_agent(spec, provider) : make_cot_agent(spec, provider);
    });
  }
  runtime::TaskReply ask_task(const std::string& question) {
    return runtime::TaskReply::from_json(ask(rt, "thinker", task(question)));
  }
  std::shared_ptr<ScriptedProvider> provider;
  json spec;
  runtime::LocalRuntime rt;  // last: destroyed first
};

const char* kInotResponse =
    R"J(<Agent_A>Each box holds 12 eggs; 3 boxes hold 3 * 12 = 36. Answer: 36</Agent_A>
<Agent_B>12 + 12 + 12 = 34. Answer: 34</Agent_B>
<round n="1">
A_on_B: 12 + 12 + 12 is 36, not 34.
B_on_A: I see no error in Agent_A's multiplication.
Agent_A keeps 36. Agent_B accepts the correction: 36.
</round>
<final_answer>36</final_answer>)J";

TEST(InotAgent, PromptCodeInTheSystemMessageAndTheTaggedAnswerOut) {
  Reasoner r("inot",
             json::array({json{{"content", kInotResponse},
                               {"usage", {{"prompt_tokens", 410}, {"completion_tokens", 95}}}}}),
             {{"max_rounds", 4}, {"answer_format", "number"}});
  auto reply = r.ask_task("How many eggs are in 3 boxes of 12?");
  EXPECT_EQ(reply.output, "36");
  EXPECT_EQ(reply.turns, 1);
  EXPECT_EQ(reply.prompt_tokens, 410);
  EXPECT_EQ(reply.completion_tokens, 95);
  EXPECT_EQ(reply.details["raw"], kInotResponse);
  EXPECT_EQ(reply.details["extracted"], true);
  EXPECT_EQ(reply.details["max_rounds"], 4);
  EXPECT_EQ(reply.details["rounds_seen"], 1);
  EXPECT_EQ(reply.details["prompt_tokens"], 410);
  EXPECT_EQ(reply.details["completion_tokens"], 95);

  auto received = r.provider->received();
  ASSERT_EQ(received.size(), 1u);
  ASSERT_EQ(received[0].messages.size(), 2u);
  const std::string system = received[0].messages[0].content;
  EXPECT_EQ(received[0].messages[0].role, "system");
  EXPECT_TRUE(contains(system, "You are a meticulous solver.")) << system;
  EXPECT_TRUE(contains(system, "<PromptCode>")) << system;
  EXPECT_TRUE(contains(system, "Agent_A")) << system;
  EXPECT_TRUE(contains(system, "Agent_B")) << system;
  EXPECT_TRUE(contains(system, "<Constant name=\"MAX_ROUNDS\">4</Constant>")) << system;
  EXPECT_TRUE(contains(system, "<round n=")) << system;
  EXPECT_TRUE(contains(system, "<final_answer>")) << system;
  EXPECT_TRUE(contains(system, "a single number")) << system;
  EXPECT_EQ(received[0].messages[1].role, "user");
  EXPECT_EQ(received[0].messages[1].content, "How many eggs are in 3 boxes of 12?");
}

TEST(InotAgent, DefaultsToTenRoundsAndTextAnswers) {
  Reasoner r("inot", json::array({"<final_answer>Blue whale</final_answer>"}));
  auto reply = r.ask_task("Largest animal?");
  EXPECT_EQ(reply.output, "Blue whale");
  EXPECT_EQ(reply.details["max_rounds"], 10);
  EXPECT_EQ(reply.details["rounds_seen"], 0);
  const std::string system = r.provider->received().at(0).messages[0].content;
  EXPECT_TRUE(contains(system, "<Constant name=\"MAX_ROUNDS\">10</Constant>")) << system;
}

TEST(InotAgent, WithoutTheTagTheLastNumberIsTheAnswer) {
  Reasoner r("inot",
             json::array({"Agent_A says 36. Agent_B says 34.\n<round n=\"1\">...</round>\n<round n=\"2\">"
                          "both agree</round>\nSo the answer is 36 eggs."}),
             {{"answer_format", "number"}});
  auto reply = r.ask_task("How many eggs?");
  EXPECT_EQ(reply.output, "36");
  EXPECT_EQ(reply.details["extracted"], true);
  EXPECT_EQ(reply.details["rounds_seen"], 2);
}

TEST(InotAgent, NothingExtractableGivesTheRawTextAndDoesNotFail) {
  const std::string raw = "The agents could not agree on anything countable.";
  Reasoner r("inot", json::array({raw}), {{"answer_format", "number"}});
  auto reply = r.ask_task("How many eggs?");
  EXPECT_EQ(reply.output, raw);
  EXPECT_EQ(reply.details["extracted"], false);
  EXPECT_EQ(reply.details["raw"], raw);
}

TEST(InotAgent, BadOptionsAreClearErrors) {
  auto provider = scripted({{"responses", json::array({"x"})}});
  json spec = {{"name", "thinker"}, {"options", {{"max_rounds", 0}}}};
  EXPECT_TRUE(contains(invalid_argument_text([&] { make_inot_agent(spec, provider); }),
                       "agent 'thinker': `max_rounds` must be an integer from 1 to 50, got 0"));
  spec["options"] = {{"answer_format", "digits"}};
  EXPECT_TRUE(contains(invalid_argument_text([&] { make_inot_agent(spec, provider); }),
                       "agent 'thinker': answer_format 'digits' is not one of text, number, letter"));
  spec["options"] = json::object();
  EXPECT_TRUE(contains(invalid_argument_text([&] { make_inot_agent(spec, nullptr); }), "no LLM provider"));
}

TEST(CotAgent, StepByStepPromptAndExtractedLetter) {
  Reasoner r("cot", json::array({"Paris is in France, so option B.\n<final_answer>(B)</final_answer>"}),
             {{"answer_format", "letter"}});
  auto reply = r.ask_task("Which city is the capital of France? (A) Lyon (B) Paris (C) Nice");
  EXPECT_EQ(reply.output, "B");
  EXPECT_EQ(reply.details["extracted"], true);
  EXPECT_FALSE(reply.details.contains("max_rounds"));
  const std::string system = r.provider->received().at(0).messages[0].content;
  EXPECT_TRUE(contains(system, "Think step by step")) << system;
  EXPECT_TRUE(contains(system, "<final_answer>")) << system;
  EXPECT_FALSE(contains(system, "PromptCode")) << system;
}

TEST(CotAgent, UntaggedTextAnswerIsTheLastLine) {
  Reasoner r("cot", json::array({"First, recall the map.\nThen check.\nCanberra"}));
  auto reply = r.ask_task("Capital of Australia?");
  EXPECT_EQ(reply.output, "Canberra");
  EXPECT_EQ(reply.details["raw"], "First, recall the map.\nThen check.\nCanberra");
}

// A moderator ("moderator", kind debate) and two scripted assistant debaters ("alice", "bob"). Each debater's
// script matches the round marker in its prompt ("Debate round N"); the opening prompt gets `responses`.
struct Debate {
  Debate(json alice_script, json bob_script, json options) {
    alice = scripted(std::move(alice_script));
    bob = scripted(std::move(bob_script));
    tool_registry = std::make_shared<tools::ToolRegistry>();
    spec = {{"name", "moderator"}, {"kind", "debate"}, {"options", std::move(options)}};
    for (auto [name, provider] : {std::pair{"alice", alice}, std::pair{"bob", bob}}) {
      json debater = {
          {"name", name}, {"kind", "assistant"}, {"role", "a debater"}, {"llm", {{"provider", "scripted"}}}};
      rt.register_factory(name, [this, debater, p = provider](const runtime::AgentId&) {
        return make_assistant_agent(debater, p, tool_registry);
      });
    }
    rt.register_factory("moderator", [this](const runtime::AgentId&) { return make_debate_agent(spec); });
  }
  runtime::TaskReply run(const std::string& question) {
    return runtime::TaskReply::from_json(ask(rt, "moderator", task(question)));
  }
  std::shared_ptr<ScriptedProvider> alice, bob;
  std::shared_ptr<const tools::ToolRegistry> tool_registry;
  json spec;
  runtime::LocalRuntime rt;  // last: destroyed first
};

json reply_with(const std::string& content, long long prompt_tokens, long long completion_tokens) {
  return {{"content", content},
          {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}}}};
}

// Scripted settings: `responses` for the opening prompt, then {match, responses} entries for later rounds.
json debater_script(json opening, std::vector<std::pair<std::string, json>> rounds = {}) {
  json settings = {{"responses", json::array({std::move(opening)})}};
  json script = json::array();
  for (auto& [match, response] : rounds)
    script.push_back(json{{"match", match}, {"responses", json::array({response})}});
  if (!script.empty()) settings["script"] = std::move(script);
  return settings;
}

json two_debaters() {
  return json::array({"alice", "bob"});
}

TEST(DebateAgent, AgreementAfterARoundStopsEarlyAndUsageIsSummed) {
  Debate d(debater_script(
               reply_with("3 * 12 = 36. <final_answer>36</final_answer>", 100, 10),
               {{"Debate round 1", reply_with("Bob added wrong. <final_answer>36</final_answer>", 200, 20)}}),
           debater_script(reply_with("12+12+12 = 34. <final_answer>34</final_answer>", 101, 11),
                          {{"Debate round 1",
                            reply_with("Alice is right: <final_answer>36.0</final_answer>", 202, 22)}}),
           {{"debaters", two_debaters()}, {"rounds", 3}, {"answer_format", "number"}});
  auto reply = d.run("How many eggs are in 3 boxes of 12?");
  EXPECT_EQ(reply.output, "36");
  EXPECT_EQ(reply.prompt_tokens, 100 + 101 + 200 + 202);
  EXPECT_EQ(reply.completion_tokens, 10 + 11 + 20 + 22);
  EXPECT_EQ(reply.turns, 4);
  EXPECT_EQ(reply.details["rounds"], 1);
  EXPECT_EQ(reply.details["max_rounds"], 3);
  EXPECT_EQ(reply.details["agreed"], true);
  ASSERT_EQ(reply.details["transcript"].size(), 4u);
  EXPECT_EQ(reply.details["transcript"][1]["debater"], "bob");
  EXPECT_EQ(reply.details["transcript"][1]["round"], 0);
  EXPECT_EQ(reply.details["transcript"][1]["answer"], "34");
  EXPECT_EQ(reply.details["transcript"][3]["round"], 1);
  EXPECT_EQ(reply.details["transcript"][3]["text"], "Alice is right: <final_answer>36.0</final_answer>");

  // Each debater got the question, then a round-1 prompt with its own and the other's previous answers.
  auto alice_calls = d.alice->received(), bob_calls = d.bob->received();
  ASSERT_EQ(alice_calls.size(), 2u);
  ASSERT_EQ(bob_calls.size(), 2u);
  EXPECT_TRUE(contains(alice_calls[0].messages.back().content, "How many eggs are in 3 boxes of 12?"));
  const std::string round1 = bob_calls[1].messages.back().content;
  EXPECT_TRUE(contains(round1, "Debate round 1 of 3")) << round1;
  EXPECT_TRUE(contains(round1, "Your previous answer:\n12+12+12 = 34.")) << round1;
  // Bob sees Alice's opening answer, not her round-1 answer (both answer each round from the previous one).
  EXPECT_TRUE(contains(round1, "The other debater's latest answer:\n3 * 12 = 36.")) << round1;
  EXPECT_FALSE(contains(round1, "Bob added wrong")) << round1;
}

TEST(DebateAgent, DisagreementRunsEveryRound) {
  Debate d(debater_script("<final_answer>A</final_answer>",
                          {{"Debate round 1", "Still (A). <final_answer>A</final_answer>"},
                           {"Debate round 2", "I keep A. <final_answer>A</final_answer>"}}),
           debater_script("The answer is (C).", {{"Debate round", "No: the answer is (C)."}}),
           {{"debaters", two_debaters()}, {"answer_format", "letter"}});
  auto reply = d.run("Pick one: (A) ... (C) ...");
  EXPECT_EQ(reply.output, "A");
  EXPECT_EQ(reply.details["rounds"], 2);  // the default
  EXPECT_EQ(reply.details["agreed"], false);
  ASSERT_EQ(reply.details["transcript"].size(), 6u);
  EXPECT_EQ(reply.details["transcript"][4]["text"], "I keep A. <final_answer>A</final_answer>");
  EXPECT_EQ(reply.details["transcript"][5]["answer"], "C");
  ASSERT_EQ(d.alice->received().size(), 3u);
  EXPECT_EQ(d.bob->received().size(), 3u);
  EXPECT_TRUE(contains(d.alice->received()[2].messages.back().content, "Debate round 2 of 2"));
  // The scripted provider's default usage (characters / 4) is summed too.
  EXPECT_GT(reply.prompt_tokens, 0);
  EXPECT_EQ(reply.turns, 6);
}

TEST(DebateAgent, AgreementOnTheOpeningAnswersNeedsNoRound) {
  Debate d(debater_script("<final_answer>Paris</final_answer>"), debater_script("paris."),
           {{"debaters", two_debaters()}, {"rounds", 2}});
  auto reply = d.run("Capital of France?");
  EXPECT_EQ(reply.output, "Paris");
  EXPECT_EQ(reply.details["rounds"], 0);
  EXPECT_EQ(reply.details["agreed"], true);
  EXPECT_EQ(d.alice->received().size(), 1u);
}

TEST(DebateAgent, AFailingDebaterFailsTheStepNamingItAndTheRound) {
  Debate d(debater_script("<final_answer>1</final_answer>"), debater_script(json{{"error", "model offline"}}),
           {{"debaters", two_debaters()}, {"answer_format", "number"}});
  try {
    d.run("Anything?");
    FAIL() << "expected the debate to fail";
  } catch (const AgentError& e) {
    EXPECT_TRUE(contains(e.what(), "agent 'moderator': debater 'bob' failed in round 0")) << e.what();
    EXPECT_TRUE(contains(e.what(), "model offline")) << e.what();
  }
}

TEST(DebateAgent, TheTokenBudgetStopsTheDebate) {
  runtime::TaskRequest r;
  r.task = "solve";
  r.description = "1 or 2?";
  r.tokens_left = 500;
  {  // Alice spends the whole budget: Bob is never asked.
    Debate d(debater_script(reply_with("<final_answer>1</final_answer>", 490, 10)),
             debater_script(reply_with("<final_answer>2</final_answer>", 1, 1)),
             {{"debaters", two_debaters()}, {"answer_format", "number"}});
    try {
      ask(d.rt, "moderator", r.to_json());
      FAIL() << "expected the budget to run out";
    } catch (const AgentError& e) {
      EXPECT_EQ(e.code(), StatusCode::resource_exhausted);
      EXPECT_TRUE(contains(e.what(), "the debaters used 500 tokens, 500 were left")) << e.what();
    }
    EXPECT_EQ(d.bob->received().size(), 0u);
  }
  {  // Bob gets what is left and stops himself when he passes it.
    Debate d(debater_script(reply_with("<final_answer>1</final_answer>", 300, 10)),
             debater_script(reply_with("<final_answer>2</final_answer>", 300, 10)),
             {{"debaters", two_debaters()}, {"answer_format", "number"}});
    try {
      ask(d.rt, "moderator", r.to_json());
      FAIL() << "expected the budget to run out";
    } catch (const AgentError& e) {
      EXPECT_EQ(e.code(), StatusCode::resource_exhausted);
      EXPECT_TRUE(contains(e.what(), "debater 'bob' failed in round 0")) << e.what();
      EXPECT_TRUE(contains(e.what(), "190 were left")) << e.what();
    }
  }
}

TEST(DebateAgent, BadOptionsAreClearErrors) {
  auto error = [](json options) {
    return invalid_argument_text([&] { make_debate_agent({{"name", "moderator"}, {"options", options}}); });
  };
  EXPECT_TRUE(contains(error(json::object()), "`debaters` must be a list of two agent names"))
      << error(json::object());
  EXPECT_TRUE(contains(error({{"debaters", "a"}}), "`debaters` must be a list of two agent names"));
  EXPECT_TRUE(contains(error({{"debaters", json::array({"a"})}}), "must name exactly two agents, got 1"));
  EXPECT_TRUE(
      contains(error({{"debaters", json::array({"a", "b", "c"})}}), "must name exactly two agents, got 3"));
  EXPECT_TRUE(
      contains(error({{"debaters", json::array({"a", "a"})}}), "must be different agents, got 'a' twice"));
  EXPECT_TRUE(contains(error({{"debaters", json::array({"a", 3})}}), "entry 3 is not an agent name"));
  EXPECT_TRUE(contains(error({{"debaters", json::array({"a", "moderator"})}}), "names the moderator itself"));
  EXPECT_TRUE(contains(error({{"debaters", json::array({"a", "b"})}, {"rounds", 11}}),
                       "`rounds` must be an integer from 1 to 10, got 11"));
  EXPECT_TRUE(contains(error({{"debaters", json::array({"a", "b"})}, {"answer_format", "yes"}}),
                       "answer_format 'yes'"));
  EXPECT_EQ(error({{"debaters", json::array({"a", "b"})}, {"rounds", 10}}), "(no error)");
}

TEST(ReasoningKinds, AreRegisteredWithTheirOptions) {
  runtime::AgentKindRegistry registry;
  add_llm_agent_kinds(registry, std::make_shared<tools::ToolRegistry>(), ".");
  ASSERT_NE(registry.find("inot"), nullptr);
  EXPECT_TRUE(registry.find("inot")->needs_llm);
  EXPECT_EQ(registry.find("debate")->option_keys,
            (std::vector<std::string>{"debaters", "rounds", "answer_format"}));
  EXPECT_FALSE(registry.find("debate")->needs_llm);
  auto agent =
      registry.find("cot")->factory({{"name", "c"},
                                     {"llm", {{"provider", "scripted"}, {"responses", json::array({"x"})}}},
                                     {"options", {{"answer_format", "letter"}}}},
                                    runtime::AgentId{"c", "k"});
  EXPECT_NE(agent, nullptr);
}

TEST(ReasoningKinds, WorkflowChecksFindBadOptionsBeforeARun) {
  runtime::AgentKindRegistry registry;
  add_llm_agent_kinds(registry, std::make_shared<tools::ToolRegistry>(), ".");
  json llm = {{"provider", "scripted"}, {"responses", json::array({"x"})}};
  auto problems = registry.find("debate")->check(
      {{"name", "moderator"}, {"options", {{"debaters", json::array({"alice", "bob"})}, {"rounds", 0}}}});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "`rounds` must be an integer from 1 to 10, got 0");
  problems = registry.find("inot")->check({{"name", "i"}, {"llm", llm}, {"options", {{"max_rounds", 51}}}});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "`max_rounds` must be an integer from 1 to 50, got 51");
  problems =
      registry.find("cot")->check({{"name", "c"}, {"llm", llm}, {"options", {{"answer_format", "prose"}}}});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "answer_format 'prose' is not one of text, number, letter");
  EXPECT_TRUE(
      registry.find("cot")->check({{"name", "c"}, {"llm", llm}, {"options", json::object()}}).empty());
  EXPECT_TRUE(reasoning_option_problems("debate",
                                        {{"name", "m"}, {"options", {{"debaters", json::array({"a", "b"})}}}})
                  .empty());
}

}  // namespace
}  // namespace chorus::agents
