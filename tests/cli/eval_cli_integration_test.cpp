// `chorus eval` as users run it: the real program runs a scripted workflow once per dataset question (GSM8K, MMLU
// CSV, generic JSONL) and reports accuracy, tokens, tool calls and turns; bad input ends with exit 2 naming where.
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace chorus::testing {
namespace {

using nlohmann::json;

std::string examples_dir() { return (test_data_dir() / ".." / ".." / "examples").string(); }

// A one-agent workflow whose scripted model answers by a substring of the question.
std::string scripted_workflow(const std::string& script_entries, const std::string& extra_agent_keys = "") {
  return R"Y(
name: eval-test
inputs:
  question: {description: the question}
agents:
  solver:
    kind: assistant
    role: Solver
)Y" + extra_agent_keys +
         R"Y(
    llm:
      provider: scripted
      responses: ["I do not know."]
      script:
)Y" + script_entries +
         R"Y(
tasks:
  answer: {description: "{question}", agent: solver}
)Y";
}

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

const char* kGsm8k =
    R"J({"question": "Ann has 2 cats and gets 3 more. How many cats?", "answer": "2 + 3 = 5\n#### 5"}
{"question": "A crate holds 1,000 eggs; how many eggs in 2 crates?", "answer": "2 * 1000 = 2000\n#### 2,000"}

{"question": "Bo has 10 pens and loses 4. How many pens?", "answer": "10 - 4 = 6\n#### 6"}
{"question": "What is 9 times 9?", "answer": "#### 81"}
)J";

const char* kGsm8kScript = R"Y(        - {match: "Ann has 2 cats", responses: ["2 + 3 = 5 <final_answer>5</final_answer>"]}
        - {match: "1,000 eggs", responses: ["<final_answer>2,000 eggs</final_answer>"]}
        - {match: "Bo has 10 pens", responses: ["10 - 4 = 7, so the answer is 7"]}
        - {match: "9 times 9", responses: ["The answer is \\boxed{81}."]})Y";

TEST(EvalCli, Gsm8kScoresEachRunAndWritesOneLinePerQuestion) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", scripted_workflow(kGsm8kScript));
  write_file(dir / "data.jsonl", kGsm8k);
  const std::string out = (dir / "results.jsonl").string();
  auto eval = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset", (dir / "data.jsonl").string(),
                          "--format", "gsm8k", "--json", "--out", out});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  json summary = json::parse(eval.out);
  EXPECT_EQ(summary["questions"], 4);
  EXPECT_EQ(summary["correct"], 3);
  EXPECT_DOUBLE_EQ(summary["accuracy"].get<double>(), 0.75);
  EXPECT_EQ(summary["failures"], 0);
  EXPECT_EQ(summary["answer_format"], "number");
  EXPECT_DOUBLE_EQ(summary["turns_per_question"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(summary["tool_calls_per_question"].get<double>(), 0.0);
  EXPECT_GT(summary["tokens_per_question"].get<double>(), 0.0);
  EXPECT_GT(summary["wall_seconds"].get<double>(), 0.0);
  EXPECT_EQ(summary["errors"], json::array());

  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["index"], 0);
  EXPECT_EQ(lines[0]["line"], 1);
  EXPECT_EQ(lines[0]["question"], "Ann has 2 cats and gets 3 more. How many cats?");
  EXPECT_EQ(lines[0]["expected"], "5");
  EXPECT_EQ(lines[0]["predicted"], "5");
  EXPECT_EQ(lines[0]["correct"], true);
  EXPECT_EQ(lines[1]["expected"], "2000");  // commas dropped from the gold answer
  EXPECT_EQ(lines[1]["correct"], true);
  EXPECT_EQ(lines[2]["line"], 4);  // the blank line is skipped but counted
  EXPECT_EQ(lines[2]["predicted"], "7");
  EXPECT_EQ(lines[2]["correct"], false);
  EXPECT_EQ(lines[3]["predicted"], "81");
  for (const auto& line : lines) {
    EXPECT_EQ(line["turns"], 1) << line.dump();
    EXPECT_EQ(line["tool_calls"], 0) << line.dump();
    EXPECT_GT(line["tokens"].get<long long>(), 0) << line.dump();
    EXPECT_GE(line["seconds"].get<double>(), 0.0) << line.dump();
    EXPECT_FALSE(line.contains("error")) << line.dump();
  }
  // Progress per question on stderr.
  EXPECT_NE(eval.err.find("eval [3/4] wrong (expected 6, got 7)"), std::string::npos) << eval.err;

  // The table (no --json) and --limit.
  auto table = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset",
                           (dir / "data.jsonl").string(), "--format", "gsm8k", "--limit", "2", "--quiet"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("accuracy             100.0% (2/2)"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("turns/question       1.00"), std::string::npos) << table.out;
  EXPECT_EQ(table.err, "");
}

TEST(EvalCli, SampleDatasetsWithTheExampleWorkflow) {
  const std::string workflow = examples_dir() + "/eval_scripted.yaml";
  auto gsm8k = run_chorus({"eval", "--workflow", workflow, "--dataset", examples_dir() + "/data/arith_gsm8k.jsonl",
                           "--format", "gsm8k", "--json", "-q"});
  ASSERT_EQ(gsm8k.exit_code, 0) << gsm8k.err;
  json summary = json::parse(gsm8k.out);
  EXPECT_EQ(summary["questions"], 12);
  EXPECT_EQ(summary["correct"], 11);  // the stickers answer is scripted wrong

  auto mmlu = run_chorus({"eval", "--workflow", workflow, "--dataset", examples_dir() + "/data/mini_mmlu.csv",
                          "--format", "mmlu", "--json", "-q"});
  ASSERT_EQ(mmlu.exit_code, 0) << mmlu.err;
  summary = json::parse(mmlu.out);
  EXPECT_EQ(summary["questions"], 8);  // the header row is skipped
  EXPECT_EQ(summary["correct"], 7);    // the hexagon answer is scripted wrong
  EXPECT_EQ(summary["answer_format"], "letter");
}

// Quoted CSV fields (commas, doubled quotes, a line break), no header; the model sees "A) ..." lines and the
// instruction to answer by letter.
TEST(EvalCli, MmluCsvQuotingAndOptionLines) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", scripted_workflow(R"Y(        - {match: "B) a stack, LIFO", responses: ["<final_answer>B</final_answer>"]}
        - {match: "He said \"hi, there\"", responses: ["The answer is (A)."]}
        - {match: "two lines", responses: ["I think it is C"]})Y"));
  write_file(dir / "q.csv",
             "\"Which is last in, first out?\",a queue,\"a stack, LIFO\",a heap,a list,B\r\n"
             "\"He said \"\"hi, there\"\". Who?\",Ann,Bob,Cy,Di,a\r\n"
             "\"A question on\ntwo lines\",x,y,z,w,D\n");
  const std::string out = (dir / "r.jsonl").string();
  auto eval = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset", (dir / "q.csv").string(),
                          "--format", "mmlu", "--json", "--out", out});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  json summary = json::parse(eval.out);
  EXPECT_EQ(summary["questions"], 3);
  EXPECT_EQ(summary["correct"], 2);
  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["question"], "He said \"hi, there\". Who?");
  EXPECT_EQ(lines[1]["expected"], "A");
  EXPECT_EQ(lines[1]["predicted"], "A");
  EXPECT_EQ(lines[2]["line"], 3);
  EXPECT_EQ(lines[2]["question"], "A question on\ntwo lines");
  EXPECT_EQ(lines[2]["predicted"], "C");
  EXPECT_EQ(lines[2]["correct"], false);
}

TEST(EvalCli, JsonlTextAnswersAndChoicesInput) {
  TempDir dir("eval-cli");
  // `choices` declared as a list: it gets the options as a JSON array; the question input gets them as lines.
  write_file(dir / "wf.yaml", R"Y(
name: eval-jsonl
inputs:
  question: {description: the question}
  choices: {description: the options, default: []}
agents:
  solver:
    kind: assistant
    role: Solver
    llm:
      provider: scripted
      responses: ["Paris."]
      script:
        - {match: "options: [\"red\",\"blue\"]", responses: ["Blue."]}
tasks:
  answer: {description: "{question} (options: {choices})", agent: solver}
)Y");
  write_file(dir / "q.jsonl", R"J({"question": "Capital of France?", "answer": "paris"}
{"question": "Capital of Italy?", "answer": "Rome"}
{"question": "Colour of the sky?", "answer": "blue", "choices": ["red", "blue"]}
)J");
  const std::string out = (dir / "r.jsonl").string();
  auto eval = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset", (dir / "q.jsonl").string(),
                          "--format", "jsonl", "--json", "--out", out, "-q"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  json summary = json::parse(eval.out);
  EXPECT_EQ(summary["answer_format"], "text");
  EXPECT_EQ(summary["correct"], 2);  // "Paris." matches "paris"; "Paris." is wrong for Rome; "Blue." matches
  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1]["correct"], false);
  EXPECT_EQ(lines[2]["correct"], true);
}

// A run that fails counts as wrong with its error; the eval goes on. Every run failing is exit 1.
TEST(EvalCli, FailedRunsAreCountedWrongAndTheEvalContinues) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", scripted_workflow(R"Y(        - {match: "Ann has 2 cats", responses: [{error: "model exploded"}]}
        - {match: "1,000 eggs", responses: ["<final_answer>2000</final_answer>"]}
        - {match: "Bo has 10 pens", responses: ["<final_answer>6</final_answer>"]}
        - {match: "9 times 9", responses: [{error: "model exploded"}]})Y"));
  write_file(dir / "data.jsonl", kGsm8k);
  const std::string out = (dir / "r.jsonl").string();
  auto eval = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset", (dir / "data.jsonl").string(),
                          "--format", "gsm8k", "--json", "--out", out});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  json summary = json::parse(eval.out);
  EXPECT_EQ(summary["questions"], 4);
  EXPECT_EQ(summary["correct"], 2);
  EXPECT_EQ(summary["failures"], 2);
  ASSERT_EQ(summary["errors"].size(), 2u);
  EXPECT_EQ(summary["errors"][0]["index"], 0);
  EXPECT_NE(summary["errors"][0]["error"].get<std::string>().find("model exploded"), std::string::npos)
      << summary.dump();
  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["correct"], false);
  EXPECT_EQ(lines[0]["predicted"], nullptr);
  EXPECT_NE(lines[0]["error"].get<std::string>().find("model exploded"), std::string::npos) << lines[0].dump();
  EXPECT_FALSE(lines[1].contains("error"));
  EXPECT_NE(eval.err.find("eval [1/4] failed: "), std::string::npos) << eval.err;

  write_file(dir / "all-fail.yaml", scripted_workflow(R"Y(        - {match: "?", responses: [{error: "down"}]})Y"));
  auto all_fail = run_chorus({"eval", "--workflow", (dir / "all-fail.yaml").string(), "--dataset",
                              (dir / "data.jsonl").string(), "--format", "gsm8k", "-q"});
  EXPECT_EQ(all_fail.exit_code, 1) << all_fail.err;
  EXPECT_NE(all_fail.out.find("failures             4"), std::string::npos) << all_fail.out;
  EXPECT_NE(all_fail.err.find("every question's run failed"), std::string::npos) << all_fail.err;
}

// The calculator is really called; tool calls and model turns are counted from the run's journal.
TEST(EvalCli, CountsToolCallsAndTurns) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", scripted_workflow(R"Y(        - match: "9 times 9"
          responses:
            - tool_calls: [{name: calculator, arguments: {expression: "9*9"}}]
            - "The calculator says 81. <final_answer>81</final_answer>"
        - match: "Ann has 2 cats"
          responses:
            - tool_calls: [{name: calculator, arguments: {expression: "2+3"}}, {name: calculator, arguments: {expression: "3+2"}}]
            - tool_calls: [{name: calculator, arguments: {expression: "5*1"}}]
            - "<final_answer>5</final_answer>")Y",
                                                "    tools: [calculator]\n    max_iter: 5\n"));
  write_file(dir / "data.jsonl", std::string(kGsm8k));
  const std::string out = (dir / "r.jsonl").string();
  auto eval = run_chorus({"eval", "--workflow", (dir / "wf.yaml").string(), "--dataset", (dir / "data.jsonl").string(),
                          "--format", "gsm8k", "--json", "--out", out, "-q"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["tool_calls"], 3);
  EXPECT_EQ(lines[0]["turns"], 3);
  EXPECT_EQ(lines[0]["correct"], true);
  EXPECT_EQ(lines[1]["tool_calls"], 0);
  EXPECT_EQ(lines[1]["turns"], 1);
  EXPECT_EQ(lines[3]["tool_calls"], 1);
  EXPECT_EQ(lines[3]["turns"], 2);
  EXPECT_EQ(lines[3]["correct"], true);
  json summary = json::parse(eval.out);
  EXPECT_DOUBLE_EQ(summary["tool_calls_per_question"].get<double>(), 1.0);   // (3 + 0 + 0 + 1) / 4
  EXPECT_DOUBLE_EQ(summary["turns_per_question"].get<double>(), 7.0 / 4.0);  // (3 + 1 + 1 + 2) / 4
}

// --provider replaces every agent's llm; --output picks the task whose output (its "answer" field) is scored.
TEST(EvalCli, ProviderOverrideAndOutputTask) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", R"Y(
name: two-steps
inputs:
  question: {description: the question}
agents:
  solver:
    kind: assistant
    role: Solver
    llm: {provider: scripted, responses: ["{\"answer\": \"0\"}"]}
  critic:
    kind: assistant
    role: Critic
    llm: {provider: scripted, responses: ["looks fine"]}
tasks:
  solve:
    description: "Solve: {question}"
    agent: solver
    output_schema: {type: object, properties: {answer: {type: string}}, required: [answer]}
  review: {description: "Review {outputs.solve}", agent: critic}
)Y");
  write_file(dir / "data.jsonl", kGsm8k);
  write_file(dir / "model.json", R"J({"responses": ["{\"answer\": \"12\"}"], "script": [
    {"match": "Ann has 2 cats", "responses": ["{\"answer\": \"5\"}"]},
    {"match": "Bo has 10 pens", "responses": ["{\"answer\": \"6\"}"]}]})J");
  const std::string wf = (dir / "wf.yaml").string(), data = (dir / "data.jsonl").string();

  auto own = run_chorus({"eval", "--workflow", wf, "--dataset", data, "--format", "gsm8k", "--output", "solve",
                         "--json", "-q"});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(json::parse(own.out)["correct"], 0);

  // The default prediction is the last task: review, whose override answer is {"answer": "12"}.
  auto last = run_chorus({"eval", "--workflow", wf, "--dataset", data, "--format", "gsm8k", "--json", "-q",
                          "--provider", "scripted:" + (dir / "model.json").string()});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(json::parse(last.out)["correct"], 0);

  const std::string out = (dir / "r.jsonl").string();
  auto overridden = run_chorus({"eval", "--workflow", wf, "--dataset", data, "--format", "gsm8k", "--output", "solve",
                                "--provider", "scripted:" + (dir / "model.json").string(), "--json", "-q", "--out",
                                out});
  ASSERT_EQ(overridden.exit_code, 0) << overridden.err;
  EXPECT_EQ(json::parse(overridden.out)["correct"], 2);
  auto lines = json_lines(read_file(out));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["output"], "5");  // the object's "answer" field
  EXPECT_EQ(lines[0]["turns"], 2);     // both agents use the override
}

TEST(EvalCli, BadInputEndsWithExit2NamingWhere) {
  TempDir dir("eval-cli");
  write_file(dir / "wf.yaml", scripted_workflow(kGsm8kScript));
  const std::string wf = (dir / "wf.yaml").string();
  write_file(dir / "bad.jsonl", R"J({"question": "ok?", "answer": "#### 1"}

{"question": "no marker", "answer": "42"}
)J");
  auto bad_line = run_chorus({"eval", "--workflow", wf, "--dataset", (dir / "bad.jsonl").string(), "--format", "gsm8k"});
  EXPECT_EQ(bad_line.exit_code, 2);
  EXPECT_NE(bad_line.err.find((dir / "bad.jsonl").string() + ":3: the GSM8K answer has no \"####\""),
            std::string::npos)
      << bad_line.err;
  EXPECT_EQ(bad_line.out, "");

  write_file(dir / "bad.csv", "question,A,B,C,D,answer\nWhat?,1,2,3,4,E\n");
  auto bad_csv = run_chorus({"eval", "--workflow", wf, "--dataset", (dir / "bad.csv").string(), "--format", "mmlu"});
  EXPECT_EQ(bad_csv.exit_code, 2);
  EXPECT_NE(bad_csv.err.find("bad.csv:2: the answer 'E' is not one of the 4 options"), std::string::npos)
      << bad_csv.err;

  write_file(dir / "open.csv", "What?,1,2,3,4,A\n\"Never closed,1,2,3,4,B\n");
  auto open_quote = run_chorus({"eval", "--workflow", wf, "--dataset", (dir / "open.csv").string(), "--format", "mmlu"});
  EXPECT_EQ(open_quote.exit_code, 2);
  EXPECT_NE(open_quote.err.find("open.csv:2: a quoted field opened here is never closed"), std::string::npos)
      << open_quote.err;

  auto format = run_chorus({"eval", "--workflow", wf, "--dataset", (dir / "bad.jsonl").string(), "--format", "csv"});
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.err.find("unknown dataset format 'csv'; use mmlu (CSV), gsm8k (JSONL) or jsonl"),
            std::string::npos)
      << format.err;

  write_file(dir / "ok.jsonl", R"J({"question": "ok?", "answer": "#### 1"})J");
  const std::string ok = (dir / "ok.jsonl").string();
  auto input = run_chorus({"eval", "--workflow", wf, "--dataset", ok, "--format", "gsm8k", "--input", "prompt"});
  EXPECT_EQ(input.exit_code, 2);
  EXPECT_NE(input.err.find("has no input 'prompt'"), std::string::npos) << input.err;

  auto output = run_chorus({"eval", "--workflow", wf, "--dataset", ok, "--format", "gsm8k", "--output", "nope"});
  EXPECT_EQ(output.exit_code, 2);
  EXPECT_NE(output.err.find("--output 'nope' is no step or task"), std::string::npos) << output.err;

  auto provider = run_chorus({"eval", "--workflow", wf, "--dataset", ok, "--format", "gsm8k", "--provider", "bogus"});
  EXPECT_EQ(provider.exit_code, 2);
  EXPECT_NE(provider.err.find("--provider 'bogus' is not a provider spec"), std::string::npos) << provider.err;

  auto missing = run_chorus({"eval", "--workflow", wf, "--dataset", (dir / "none.jsonl").string(), "--format", "gsm8k"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.jsonl: cannot read the dataset"), std::string::npos) << missing.err;

  auto limit = run_chorus({"eval", "--workflow", wf, "--dataset", ok, "--format", "gsm8k", "--limit", "0"});
  EXPECT_EQ(limit.exit_code, 2);
  EXPECT_NE(limit.err.find("--limit must be 1 or more"), std::string::npos) << limit.err;

  auto answer_format = run_chorus({"eval", "--workflow", wf, "--dataset", ok, "--format", "gsm8k", "--answer-format",
                                   "roman"});
  EXPECT_EQ(answer_format.exit_code, 2);
  EXPECT_NE(answer_format.err.find("--answer-format: "), std::string::npos) << answer_format.err;

  auto help = run_chorus({"--help"});
  EXPECT_NE(help.out.find("  eval  "), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Evaluate a workflow on a dataset"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace chorus::testing
