// `chorus runs list|show|trace` against a store written by RunStore in the test: the real program reads it.
#include "runtime/run-store.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

namespace chorus::testing {
namespace {

using runtime::EffectRecord;
using runtime::RunEvent;
using runtime::RunRecord;
using runtime::RunStore;
using runtime::StepRecord;

constexpr const char* kDoneId = "3b24aa00-1111-4000-8000-000000000001";
constexpr const char* kFailedId = "3b24bb00-2222-4000-8000-000000000002";
constexpr const char* kOtherId = "9f00cc00-3333-4000-8000-000000000003";

RunRecord make_run(const std::string& id, const std::string& workflow, const std::string& state,
                   double created) {
  RunRecord run;
  run.id = id;
  run.workflow_name = workflow;
  run.workflow_file = workflow + ".yaml";
  run.workflow_yaml = "name: " + workflow + "\n";
  run.inputs = {{"topic", "sqlite"}};
  run.state = state;
  run.outputs = nullptr;
  run.error = "";
  run.replay_of = "";
  run.created_unix_ms = created;
  run.updated_unix_ms = created + 5000;
  run.prompt_tokens = 100;
  run.completion_tokens = 23;
  return run;
}

StepRecord make_step(const std::string& run_id, const std::string& name, int iteration, double started) {
  StepRecord step;
  step.run_id = run_id;
  step.step = name;
  step.iteration = iteration;
  step.state = "done";
  step.input = {{"task", name}};
  step.output = {{"text", name + " output"}};
  step.error = "";
  step.attempts = 1;
  step.started_unix_ms = started;
  step.finished_unix_ms = started + 1500;
  step.prompt_tokens = 40;
  step.completion_tokens = 2;
  return step;
}

EffectRecord make_effect(const std::string& key) {
  EffectRecord effect;
  effect.key = key;
  effect.kind = key.find("llm") != std::string::npos ? "llm" : "tool";
  effect.request = {{"q", key}};
  effect.result = {{"a", key}};
  effect.elapsed_ms = 12;
  return effect;
}

RunEvent make_event(const std::string& type, const std::string& step, double time) {
  RunEvent event;
  event.type = type;
  event.run_id = kDoneId;
  event.step = step;
  event.iteration = step.empty() ? 0 : 1;
  event.time_unix_ms = time;
  event.state = "done";
  event.data = {{"note", type + " of " + (step.empty() ? "run" : step)}};
  return event;
}

// A store with three runs; the done one has two steps (one looped twice), effects and events.
void fill_store(const std::string& path) {
  RunStore store(path);
  RunRecord done = make_run(kDoneId, "review", "done", 1700000000000);
  done.outputs = {{"summary", "all good"}};
  store.create_run(done);
  RunRecord failed = make_run(kFailedId, "review", "failed", 1700000100000);
  failed.error = "step 'draft' failed: tool timed out";
  store.create_run(failed);
  store.create_run(make_run(kOtherId, "digest", "running", 1700000200000));

  store.save_step(make_step(kDoneId, "draft", 1, 1700000001000));
  store.save_step(make_step(kDoneId, "review", 1, 1700000003000));
  StepRecord again = make_step(kDoneId, "draft", 2, 1700000005000);
  again.attempts = 3;
  again.error = "attempt 1: timeout";
  store.save_step(again);
  store.record_effect(kDoneId, make_effect("draft#1/llm#1"));
  store.record_effect(kDoneId, make_effect("draft#1/tool#1"));
  store.record_effect(kDoneId, make_effect("draft#2/llm#1"));
  store.record_effect(kDoneId, make_effect("review#1/llm#1"));
  store.append_event(make_event("run_started", "", 1700000000000));
  store.append_event(make_event("step_finished", "draft", 1700000002500));
  store.append_event(make_event("run_finished", "", 1700000009000));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RunsCli, ListShowsNewestFirstWithShortIdsAndJson) {
  TempDir tmp("runs-cli");
  const std::string store = (tmp / "runs.db").string();
  fill_store(store);

  auto r = run_chorus({"runs", "list", "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u) << r.out;
  for (const char* column : {"WORKFLOW", "STATE", "CREATED", "TOKENS"})
    EXPECT_NE(lines[0].find(column), std::string::npos) << r.out;
  EXPECT_EQ(lines[1].rfind("9f00cc00  digest", 0), 0u) << r.out;
  EXPECT_NE(lines[1].find("running"), std::string::npos);
  EXPECT_EQ(lines[2].rfind("3b24bb00  review", 0), 0u) << r.out;
  EXPECT_NE(lines[2].find("failed"), std::string::npos);
  EXPECT_EQ(lines[3].rfind("3b24aa00  review", 0), 0u) << r.out;
  EXPECT_EQ(lines[3].substr(lines[3].size() - 3), "123");  // 100 prompt + 23 completion tokens
  EXPECT_EQ(r.out.find("-1111-"), std::string::npos);      // short ids only

  r = run_chorus({"runs", "list", "--store", store, "--limit", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["id"], kOtherId);
  EXPECT_EQ(json[0]["workflow_name"], "digest");
  EXPECT_EQ(json[0]["workflow_yaml"], "name: digest\n");
  EXPECT_EQ(json[0]["inputs"]["topic"], "sqlite");
  EXPECT_EQ(json[0]["created_unix_ms"], 1700000200000.0);
  EXPECT_EQ(json[0]["prompt_tokens"], 100);

  // CHORUS_STORE names the store when --store is absent.
  auto env = run_process({chorus_binary().string(), "runs", "list", "--json"}, "", {"CHORUS_STORE=" + store});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(nlohmann::json::parse(env.out).size(), 3u);
}

TEST(RunsCli, ShowPrintsTheRunAndEachStep) {
  TempDir tmp("runs-cli");
  const std::string store = (tmp / "runs.db").string();
  fill_store(store);

  auto r = run_chorus({"runs", "show", "3b24a", "--store", store});  // a unique prefix
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("run       ") + kDoneId), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("review (review.yaml)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("state     done"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tokens    123 (prompt 100, completion 23)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("effects   4 recorded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(inputs    {"topic":"sqlite"})"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"(outputs   {"summary":"all good"})"), std::string::npos) << r.out;
  auto lines = lines_of(r.out);
  auto header =
      std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l.rfind("STEP", 0) == 0; });
  ASSERT_NE(header, lines.end()) << r.out;
  ASSERT_GE(lines.end() - header, 4);
  for (const char* column : {"ITER", "STATE", "ATTEMPTS", "ELAPSED", "TOKENS", "EFFECTS"})
    EXPECT_NE(header->find(column), std::string::npos) << *header;
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string cell; in >> cell;) out.push_back(cell);
    return out;
  };
  // step, iteration, state, attempts, elapsed (2 cells: "1.5 s"), tokens, effects
  EXPECT_EQ(cells(header[1]), (std::vector<std::string>{"draft", "1", "done", "1", "1.5", "s", "42", "2"}));
  EXPECT_EQ(cells(header[2]), (std::vector<std::string>{"review", "1", "done", "1", "1.5", "s", "42", "1"}));
  EXPECT_EQ(cells(header[3]), (std::vector<std::string>{"draft", "2", "done", "3", "1.5", "s", "42", "1"}));
  EXPECT_NE(r.out.find("error in draft (iteration 2): attempt 1: timeout"), std::string::npos) << r.out;

  r = run_chorus({"runs", "show", kFailedId, "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("error     step 'draft' failed: tool timed out"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no steps recorded"), std::string::npos) << r.out;

  r = run_chorus({"runs", "show", "3b24aa", "--store", store, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["id"], kDoneId);
  EXPECT_EQ(json["outputs"]["summary"], "all good");
  ASSERT_EQ(json["steps"].size(), 3u);
  EXPECT_EQ(json["steps"][0]["output"]["text"], "draft output");
  EXPECT_EQ(json["steps"][0]["effects"], 2);
  EXPECT_EQ(json["steps"][2]["iteration"], 2);
  EXPECT_EQ(json["steps"][2]["attempts"], 3);
  ASSERT_EQ(json["effects"].size(), 4u);
  EXPECT_EQ(json["effects"][1]["key"], "draft#1/tool#1");
  EXPECT_EQ(json["effects"][1]["kind"], "tool");
  EXPECT_EQ(json["effects"][1]["result"]["a"], "draft#1/tool#1");
}

TEST(RunsCli, TracePrintsTheEventsAsJsonl) {
  TempDir tmp("runs-cli");
  const std::string store = (tmp / "runs.db").string();
  fill_store(store);
  auto r = run_chorus({"runs", "trace", "3b24aa00", "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(lines[0]), make_event("run_started", "", 1700000000000).to_json());
  EXPECT_EQ(nlohmann::json::parse(lines[1]), make_event("step_finished", "draft", 1700000002500).to_json());
  EXPECT_EQ(nlohmann::json::parse(lines[2])["type"], "run_finished");

  r = run_chorus({"runs", "trace", kOtherId, "--store", store});  // a run without events
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(RunsCli, ErrorsNameTheProblemAndTheFix) {
  TempDir tmp("runs-cli");
  const std::string store = (tmp / "runs.db").string();

  // A missing store is an error, and reading does not create it.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"runs", "list", "--store", store},
                                             {"runs", "show", "abc", "--store", store},
                                             {"runs", "trace", "abc", "--store", store}}) {
    auto r = run_chorus(args);
    EXPECT_EQ(r.exit_code, 2) << args[1];
    EXPECT_NE(r.err.find("no run store at '" + store + "' (the file does not exist)"), std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(store));
  auto r = run_process({chorus_binary().string(), "runs", "list"}, "",
                       {"CHORUS_STORE=" + (tmp / "elsewhere.db").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("elsewhere.db"), std::string::npos) << r.err;

  fill_store(store);
  r = run_chorus({"runs", "show", "3b24", "--store", store});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string("run prefix '3b24' is ambiguous: matches ") + kDoneId + ", " + kFailedId),
            std::string::npos)
      << r.err;
  r = run_chorus({"runs", "trace", "ffff", "--store", store});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(
      r.err.find("no run 'ffff' in " + store + "; `chorus runs list --store " + store + "` shows the runs"),
      std::string::npos)
      << r.err;

  const auto text = tmp / "notes.txt";
  write_file(text, std::string(200, 'x'));
  r = run_chorus({"runs", "list", "--store", text.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(text.string() + ": not a Chorus run store"), std::string::npos) << r.err;

  // `runs` needs a subcommand and its help lists them.
  r = run_chorus({"runs"});
  EXPECT_NE(r.exit_code, 0);
  r = run_chorus({"runs", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"list", "show", "trace"}) EXPECT_NE(r.out.find(sub), std::string::npos) << r.out;
}

TEST(RunsCli, EmptyStoreListsNothing) {
  TempDir tmp("runs-cli");
  const std::string store = (tmp / "runs.db").string();
  { RunStore create(store); }
  auto r = run_chorus({"runs", "list", "--store", store});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "no runs in " + store + "\n");
  r = run_chorus({"runs", "list", "--store", store, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::array());
}

}  // namespace
}  // namespace chorus::testing
