// WorkflowSpec: parsing the workflow YAML format and reporting every problem with its place and fix.
#include "runtime/workflow-spec.h"

#include "runtime/agent-kinds.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace chorus::runtime {
namespace {

using Json = nlohmann::json;

const char* const kResearch = R"Y(name: research
description: Research a topic, review the draft, ask a human.
inputs:
  topic: {description: "what to research", default: "kv caches"}
  audience: {description: "who reads it"}
  depth: {default: 2}
budgets: {max_tokens: 20000, timeout_s: 300, step_timeout_s: 120, retries: 1, backoff_s: 0.5}
agents:
  writer:
    kind: echo
    role: Technical writer
    goal: Clear prose
    instructions: Be brief.
    llm: {provider: scripted, script: [hello]}
    tools: [calculator]
    max_iter: 5
  reviewer: {kind: echo}
tasks:
  outline: {description: "Outline {topic} for {audience}", agent: writer}
  search_a: {description: "Search papers on {inputs.topic}", agent: writer}
  search_b: {description: "Search blogs on {topic}", agent: writer}
  draft:
    description: |
      Write about {topic} at depth {depth}.
      Use {outputs.outline} and {{braces}}.
    expected_output: "A draft"
    agent: writer
    context: [outline, search_a]
  review:
    description: "Review {outputs.draft}"
    agent: reviewer
    output_schema: {type: object, required: [verdict]}
flow:
  start: outline
  steps:
    outline: {next: gather}
    gather: {parallel: [search_a, search_b], next: draft}
    search_a:
    search_b: {task: search_b}
    draft: {next: review, max_iterations: 3, retries: 2, timeout_s: 60}
    review:
      max_iterations: 3
      next:
        - {when: "outputs.review.verdict == 'revise' && iterations.draft < 3", goto: draft}
        - {goto: approve}
    approve: {human_input: {prompt: "Approve {topic}?", key: approval}, next: end}
)Y";

AgentKindRegistry builtin_kinds() {
  AgentKindRegistry registry;
  add_builtin_kinds(registry);
  return registry;
}

std::vector<std::string> problems_of(const std::string& yaml, const AgentKindRegistry* kinds = nullptr) {
  try {
    WorkflowSpec::parse(yaml, "wf.yaml", kinds);
  } catch (const WorkflowError& e) {
    return e.problems();
  }
  return {};
}

// The problem that contains `needle` (fails the test when there is none).
std::string find_problem(const std::vector<std::string>& problems, const std::string& needle) {
  for (const auto& p : problems)
    if (p.find(needle) != std::string::npos) return p;
  std::string all;
  for (const auto& p : problems) all += "\n  " + p;
  ADD_FAILURE() << "no problem mentions '" << needle << "'; problems:" << all;
  return "";
}

TEST(WorkflowSpec, ParsesEverySection) {
  auto kinds = builtin_kinds();
  auto spec = WorkflowSpec::parse(kResearch, "research.yaml", &kinds);
  EXPECT_EQ(spec.name, "research");
  EXPECT_EQ(spec.file, "research.yaml");
  ASSERT_EQ(spec.inputs.size(), 3u);
  EXPECT_EQ(spec.inputs.at("topic").description, "what to research");
  EXPECT_EQ(*spec.inputs.at("topic").default_value, "kv caches");
  EXPECT_FALSE(spec.inputs.at("audience").default_value.has_value());
  EXPECT_EQ(*spec.inputs.at("depth").default_value, 2);
  EXPECT_EQ(spec.inputs.at("topic").pos.str(), "research.yaml:4:3");

  EXPECT_EQ(spec.budgets.max_tokens, 20000);
  EXPECT_EQ(spec.budgets.timeout_s, 300);
  EXPECT_EQ(spec.budgets.step_timeout_s, 120);
  EXPECT_EQ(spec.budgets.retries, 1);
  EXPECT_EQ(spec.budgets.backoff_s, 0.5);

  EXPECT_EQ(spec.agent_order, (std::vector<std::string>{"writer", "reviewer"}));
  const auto& writer = spec.agents.at("writer");
  EXPECT_EQ(writer.kind, "echo");
  EXPECT_EQ(writer.role, "Technical writer");
  EXPECT_EQ(writer.instructions, "Be brief.");
  EXPECT_EQ(writer.llm, Json::parse(R"J({"provider": "scripted", "script": ["hello"]})J"));
  EXPECT_EQ(writer.tools, std::vector<std::string>{"calculator"});
  EXPECT_EQ(writer.max_iter, 5);
  EXPECT_EQ(writer.to_json()["max_iter"], 5);
  EXPECT_EQ(writer.to_json()["name"], "writer");
  EXPECT_TRUE(spec.agents.at("reviewer").llm.is_null());
  EXPECT_EQ(spec.agents.at("reviewer").max_iter, 10);

  EXPECT_EQ(spec.task_order.size(), 5u);
  const auto& draft = spec.tasks.at("draft");
  EXPECT_EQ(draft.description, "Write about {topic} at depth {depth}.\nUse {outputs.outline} and {{braces}}.\n");
  EXPECT_EQ(draft.context, (std::vector<std::string>{"outline", "search_a"}));
  EXPECT_EQ(*spec.tasks.at("review").output_schema, Json::parse(R"J({"type":"object","required":["verdict"]})J"));

  EXPECT_EQ(spec.flow.start, "outline");
  EXPECT_EQ(spec.flow.order.size(), 7u);
  const auto& gather = spec.flow.steps.at("gather");
  EXPECT_EQ(gather.kind, StepSpec::Kind::parallel);
  EXPECT_EQ(gather.branches, (std::vector<std::string>{"search_a", "search_b"}));
  EXPECT_EQ(spec.flow.steps.at("search_a").task, "search_a");  // task defaults to the step name
  const auto& d = spec.flow.steps.at("draft");
  EXPECT_EQ(d.max_iterations, 3);
  EXPECT_EQ(d.retries, 2);
  EXPECT_EQ(d.timeout_s, 60);
  EXPECT_EQ(spec.flow.steps.at("outline").retries, 1);  // from budgets.retries
  const auto& review = spec.flow.steps.at("review");
  ASSERT_EQ(review.next.size(), 2u);
  EXPECT_EQ(review.next[0].when, "outputs.review.verdict == 'revise' && iterations.draft < 3");
  EXPECT_EQ(review.next[0].target, "draft");
  EXPECT_EQ(review.next[1].when, "");
  EXPECT_EQ(review.next[1].target, "approve");
  const auto& approve = spec.flow.steps.at("approve");
  EXPECT_EQ(approve.kind, StepSpec::Kind::human_input);
  EXPECT_EQ(approve.prompt, "Approve {topic}?");
  EXPECT_EQ(approve.input_key, "approval");
  EXPECT_TRUE(approve.task.empty());
  EXPECT_EQ(approve.next[0].target, "end");
  EXPECT_TRUE(spec.warnings.empty()) << spec.warnings.front();
}

TEST(WorkflowSpec, WithoutFlowTheTasksRunInWrittenOrder) {
  auto spec = WorkflowSpec::parse(R"Y(name: plain
inputs: [topic, style]
agents: {solo: {llm: {provider: openai, model: m}}}
tasks:
  b_first: {description: "one {topic}"}
  a_second: {description: "two {b_first} {style}", context: [b_first]}
)Y",
                                  "plain.yaml");
  EXPECT_EQ(spec.agents.at("solo").kind, "assistant");
  EXPECT_EQ(spec.tasks.at("b_first").agent, "solo");  // the only agent does every task
  EXPECT_FALSE(spec.inputs.at("topic").default_value.has_value());
  EXPECT_EQ(spec.flow.order, (std::vector<std::string>{"b_first", "a_second"}));
  EXPECT_EQ(spec.flow.start, "b_first");
  ASSERT_EQ(spec.flow.steps.at("b_first").next.size(), 1u);
  EXPECT_EQ(spec.flow.steps.at("b_first").next[0].target, "a_second");
  EXPECT_TRUE(spec.flow.steps.at("a_second").next.empty());
}

TEST(WorkflowSpec, ReportsEveryProblemWithPlaceAndFix) {
  const std::string yaml = R"Y(name: broken
inputs:
  topic: {descripton: "typo"}
budgets: {max_tokens: many, retries: -1}
agents:
  writer: {kind: echo, rol: x, max_iter: 0}
  bot: {kind: asistant}
tasks:
  draft: {description: "About {topik} and {outputs.outline}", agent: writr, context: [outline, nothing]}
  outline: {description: "Outline", agent: writer}
  unused: {description: "never", agent: writer}
flow:
  start: outline
  steps:
    outline: {next: [{when: "outputs.outline.x = 1", goto: draft}, {goto: drft}]}
    draft: {max_iterations: 0, parallel: [a]}
    lonely: {task: outline}
)Y";
  auto kinds = builtin_kinds();
  auto problems = problems_of(yaml, &kinds);
  EXPECT_EQ(find_problem(problems, "descripton"), "wf.yaml:3:11: unknown key 'descripton' in input 'topic'; did "
                                                  "you mean 'description'?");
  EXPECT_EQ(find_problem(problems, "max_tokens"), "wf.yaml:4:23: budgets.max_tokens must be an integer >= 0, got "
                                                  "'many'; write e.g. `max_tokens: 1`");
  find_problem(problems, "wf.yaml:4:38: budgets.retries must be an integer >= 0");
  find_problem(problems, "wf.yaml:6:24: unknown key 'rol' in agent 'writer' (kind echo); did you mean 'role'?");
  find_problem(problems, "wf.yaml:6:42: agents.writer.max_iter must be an integer >= 1");
  find_problem(problems, "wf.yaml:7:15: unknown agent kind 'asistant' for agent 'bot'; the kinds are: dispatch, echo");
  find_problem(problems, "wf.yaml:9:32: task 'draft' description reads {topik}, but 'topik' is neither an input "
                         "nor a step; did you mean 'topic'?");
  find_problem(problems, "wf.yaml:9:70: task 'draft' names unknown agent 'writr'; did you mean 'writer'?");
  find_problem(problems, "wf.yaml:9:96: task 'draft' has unknown context task 'nothing'");
  find_problem(problems, "wf.yaml:15:48: step 'outline' condition does not parse: '=' is not an operator");
  find_problem(problems, "wf.yaml:15:75: step 'outline' goes to unknown step 'drft'; did you mean 'draft'?");
  find_problem(problems, "wf.yaml:16:29: flow.steps.draft.max_iterations must be an integer >= 1");
  find_problem(problems, "wf.yaml:16:43: parallel step 'draft' has unknown branch 'a'");
  for (const auto& p : problems) EXPECT_NE(p.find("; "), std::string::npos) << "no fix in: " << p;
}

TEST(WorkflowSpec, WarningsForUnreachableStepsAndUnusedTasks) {
  auto spec = WorkflowSpec::parse(R"Y(name: w
agents: {a: {kind: echo}}
tasks:
  one: {description: x}
  two: {description: y}
  spare: {description: z}
flow:
  steps:
    one: {next: [{goto: end}, {goto: two}]}
    two: {}
)Y",
                                  "w.yaml");
  ASSERT_EQ(spec.warnings.size(), 3u);
  EXPECT_EQ(find_problem(spec.warnings, "spare"), "w.yaml:6:3: warning: task 'spare' is run by no step; add a step "
                                                  "for it or remove it");
  find_problem(spec.warnings, "w.yaml:9:38: warning: step 'one': this edge is never taken");
  find_problem(spec.warnings, "w.yaml:10:5: warning: step 'two' can never run");
}

TEST(WorkflowSpec, DuplicateKeysAreErrors) {
  auto problems = problems_of(R"Y(name: d
agents: {a: {kind: echo}}
tasks:
  one: {description: x, description: y}
  one: {description: z}
)Y");
  find_problem(problems, "wf.yaml:4:25: duplicate key 'description' in task 'one'");
  find_problem(problems, "wf.yaml:5:3: duplicate key 'one' in tasks");
}

TEST(WorkflowSpec, YamlSyntaxErrorHasThePlace) {
  auto problems = problems_of("name: x\nagents: [a, b\ntasks: {}\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("wf.yaml:", 0), 0u) << problems[0];
  EXPECT_NE(problems[0].find("YAML syntax error"), std::string::npos) << problems[0];
  auto empty = problems_of("");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_NE(empty[0].find("the file is empty"), std::string::npos);
}

TEST(WorkflowSpec, MissingAndWrongTypes) {
  auto problems = problems_of("description: 5\nagents: [a]\ntasks:\n  t: just text\n");
  find_problem(problems, "missing `name:`");
  find_problem(problems, "wf.yaml:2:9: agents must be a mapping");
  find_problem(problems, "wf.yaml:4:6: task 't' must be a mapping");
  auto more = problems_of(R"Y(name: m
agents: {a: {kind: echo, llm: openai, tools: {x: 1}}, b: {llm: {model: x}}}
tasks:
  t: {agent: a, output_schema: {type: 7}}
  u: {description: [1, 2], agent: b}
)Y");
  find_problem(more, "wf.yaml:2:31: agents.a.llm must be a mapping with a `provider:`");
  find_problem(more, "wf.yaml:2:46: agents.a.tools must be a list of names");
  find_problem(more, "wf.yaml:2:64: agents.b.llm has no `provider:`");
  find_problem(more, "wf.yaml:4:3: task 't' has no `description:`");
  find_problem(more, "wf.yaml:4:32: tasks.t.output_schema is not a valid JSON Schema");
  find_problem(more, "wf.yaml:5:20: tasks.u.description must be text");
}

TEST(WorkflowSpec, HugeNumbersAreReportedNotWrapped) {
  auto problems = problems_of(R"Y(name: big
budgets: {timeout_s: 1e30, retries: 3000000000}
agents: {a: {kind: echo, max_iter: 99999999999}}
tasks: {t: {description: d, agent: a}}
flow:
  steps:
    t: {max_iterations: 4294967295, timeout_s: 1e30}
)Y");
  find_problem(problems, "wf.yaml:2:22: budgets.timeout_s must be at most 1e+07");
  find_problem(problems, "wf.yaml:2:37: budgets.retries must be at most 1000000");
  find_problem(problems, "agents.a.max_iter must be at most 1000000");
  find_problem(problems, "max_iterations must be at most 1000000");
  find_problem(problems, "flow.steps.t.timeout_s must be at most 1e+07");
}

TEST(WorkflowSpec, KindOptionsAndLlmRequirementComeFromTheRegistry) {
  AgentKindRegistry kinds;
  add_builtin_kinds(kinds);
  AgentKind assistant;
  assistant.name = "assistant";
  assistant.option_keys = {"temperature"};
  assistant.needs_llm = true;
  kinds.add(std::move(assistant));
  const std::string yaml = R"Y(name: k
agents:
  a: {temperature: 0.2, llm: {provider: openai}}
  b: {temprature: 0.2}
  c: {kind: echo, anything: 1}
tasks:
  t: {description: x, agent: a}
)Y";
  auto problems = problems_of(yaml, &kinds);
  find_problem(problems, "wf.yaml:4:7: unknown key 'temprature' in agent 'b' (kind assistant); did you mean "
                         "'temperature'?");
  find_problem(problems, "wf.yaml:4:3: agent 'b' (kind assistant) needs an `llm:` section");
  find_problem(problems, "wf.yaml:5:19: unknown key 'anything' in agent 'c' (kind echo)");
  EXPECT_EQ(problems.size(), 3u);
  // Without a registry every extra key goes to options, unchecked.
  auto spec = WorkflowSpec::parse(yaml, "k.yaml");
  EXPECT_EQ(spec.agents.at("a").options, Json::parse(R"J({"temperature": 0.2})J"));
  EXPECT_EQ(spec.agents.at("c").options, Json::parse(R"J({"anything": 1})J"));
}

TEST(WorkflowSpec, ParallelBranchesMustBeStepsWithoutTheirOwnNext) {
  auto problems = problems_of(R"Y(name: p
agents: {a: {kind: echo}}
tasks: {x: {description: x}, y: {description: y}, z: {description: z}}
flow:
  steps:
    fan: {parallel: [x, y, x, fan, ghost], next: z}
    x: {next: z}
    y:
    z:
)Y");
  find_problem(problems, "wf.yaml:7:15: step 'x' is a branch of parallel step 'fan' and has its own `next:`");
  find_problem(problems, "wf.yaml:6:28: parallel step 'fan' lists branch 'x' twice");
  find_problem(problems, "wf.yaml:6:31: parallel step 'fan' lists itself as a branch");
  find_problem(problems, "wf.yaml:6:36: parallel step 'fan' has unknown branch 'ghost'");
}

TEST(WorkflowSpec, ContextMustRunBefore) {
  auto problems = problems_of(R"Y(name: c
agents: {a: {kind: echo}}
tasks:
  first: {description: x, context: [second]}
  second: {description: y}
  para_a: {description: a, context: [para_b]}
  para_b: {description: b}
  after: {description: c, context: [para_a, para_b, first]}
flow:
  steps:
    first: {next: second}
    second: {next: fan}
    fan: {parallel: [para_a, para_b], next: after}
    para_a:
    para_b:
    after:
)Y");
  find_problem(problems, "wf.yaml:4:37: task 'first' (step 'first') uses context 'second', but no step running "
                         "'second' can run before step 'first'");
  find_problem(problems, "wf.yaml:6:38: task 'para_a' (step 'para_a') uses context 'para_b'");
  EXPECT_EQ(problems.size(), 2u) << "branches and earlier steps count as before 'after'";
  // In a loop, an earlier iteration counts.
  auto loop = WorkflowSpec::parse(R"Y(name: l
agents: {a: {kind: echo}}
tasks:
  draft: {description: x, context: [review]}
  review: {description: y}
flow:
  steps:
    draft: {next: review, max_iterations: 2}
    review: {next: [{goto: draft}]}
)Y",
                                  "l.yaml");
  EXPECT_EQ(loop.flow.steps.at("draft").max_iterations, 2);
  ASSERT_EQ(loop.warnings.size(), 1u);
  EXPECT_EQ(loop.warnings[0], "l.yaml:9:5: warning: step 'review' is on a loop but may run only once "
                              "(max_iterations 1), so the loop stops when it comes round again; set "
                              "`max_iterations:` as on the loop's other steps");
}

TEST(WorkflowSpec, ReferencesInConditionsAndPrompts) {
  auto problems = problems_of(R"Y(name: r
inputs: {topic: {default: t}}
agents: {a: {kind: echo}}
tasks:
  draft: {description: "{inputs.topc} {iterations.draft} {outputs.draftt.x}"}
flow:
  steps:
    draft: {next: [{when: "inputs.topic == 'x' || outputs.ask == 'y' || missing > 1", goto: ask}]}
    ask: {human_input: {prompt: "Ok {outputs.drft}?", key: "a b"}}
    ask2: {human_input: {key: k}, task: draft}
)Y");
  find_problem(problems, "wf.yaml:5:26: task 'draft' description reads {inputs.topc}, but there is no input 'topc'; "
                         "did you mean 'topic'?");
  find_problem(problems, "wf.yaml:5:59: task 'draft' description reads {outputs.draftt.x}, but there is no step "
                         "'draftt'");
  find_problem(problems, "wf.yaml:8:73: step 'draft' condition reads 'missing', but 'missing' is neither an input "
                         "nor a step");
  find_problem(problems, "wf.yaml:9:38: step 'ask' prompt reads {outputs.drft}");
  find_problem(problems, "wf.yaml:9:60: flow.steps.ask.human_input.key 'a b' must be a non-empty name");
  find_problem(problems, "wf.yaml:10:25: flow.steps.ask2.human_input has no `prompt:`");
  find_problem(problems, "wf.yaml:10:5: step 'ask2' mixes task, human_input");
  EXPECT_EQ(problems.size(), 7u);
}

TEST(WorkflowSpec, PlacesReferencesInsideBlockTextAndSortsProblems) {
  auto problems = problems_of(R"Y(name: b
agents: {a: {kind: echo}}
tasks:
  t:
    description: |
      First line.
        About {nope} here.
    expected_output: 'x {also_nope}'
    agent: zz
)Y");
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].substr(0, 14), "wf.yaml:7:16: ");
  EXPECT_EQ(problems[1].substr(0, 14), "wf.yaml:8:26: ");
  EXPECT_EQ(problems[2].substr(0, 13), "wf.yaml:9:12:");
}

TEST(WorkflowSpec, NamesMustBeIdentifiersAndNotReserved) {
  auto problems = problems_of(R"Y(name: n
inputs: [my-topic, outputs]
agents: {"bad agent": {kind: echo}, ok: {kind: echo}}
tasks: {end: {description: x, agent: ok}}
)Y");
  find_problem(problems, "wf.yaml:2:10: input name 'my-topic' is not valid");
  find_problem(problems, "wf.yaml:2:20: input name 'outputs' is reserved");
  find_problem(problems, "wf.yaml:3:10: agent name 'bad agent' is not valid");
  find_problem(problems, "wf.yaml:4:9: task name 'end' is reserved");
}

TEST(WorkflowSpec, ResolveInputsFillsDefaultsAndRejectsUnknownOrMissing) {
  auto spec = WorkflowSpec::parse(kResearch, "research.yaml");
  auto inputs = spec.resolve_inputs({{"audience", "engineers"}, {"depth", "4"}});
  EXPECT_EQ(inputs, Json::parse(R"J({"topic": "kv caches", "audience": "engineers", "depth": 4})J"));
  try {
    spec.resolve_inputs({{"topik", "x"}, {"depth", "deep"}});
    FAIL() << "expected an error";
  } catch (const WorkflowError& e) {
    ASSERT_EQ(e.problems().size(), 3u);
    find_problem(e.problems(), "research.yaml: unknown input 'topik'; did you mean 'topic'? the inputs are: "
                               "audience, depth, topic");
    find_problem(e.problems(), "input 'depth' must be number like its default 2, got 'deep'");
    find_problem(e.problems(), "missing input 'audience' (who reads it); pass --input audience=VALUE");
  }
}

TEST(WorkflowSpec, LoadNamesAnUnreadableFile) {
  try {
    WorkflowSpec::load("/nonexistent/wf.yaml");
    FAIL() << "expected an error";
  } catch (const WorkflowError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/wf.yaml: cannot read"), std::string::npos);
  }
  chorus::testing::TempDir dir("spec");
  chorus::testing::write_file(dir / "ok.yaml", kResearch);
  EXPECT_EQ(WorkflowSpec::load((dir / "ok.yaml").string()).name, "research");
}

}  // namespace
}  // namespace chorus::runtime
