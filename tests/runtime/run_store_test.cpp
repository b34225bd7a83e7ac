// RunStore on a real SQLite file: record round trips, effect idempotency, journals (resume and replay
// semantics, run_once across a "restart"), prefix resolution, foreign files, and concurrent writers.
#include "runtime/agent-error.h"
#include "runtime/run-store.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace chorus::runtime {
namespace {

using testing::TempDir;

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

RunRecord sample_run(const std::string& id, double created) {
  RunRecord run;
  run.id = id;
  run.workflow_name = "review";
  run.workflow_file = "flows/review.yaml";
  run.workflow_yaml = "name: review\nsteps: []\n";
  run.inputs = {{"topic", "sqlite"}, {"depth", 2}};
  run.state = "running";
  run.outputs = nullptr;
  run.error = "";
  run.replay_of = "";
  run.created_unix_ms = created;
  run.updated_unix_ms = created + 1.5;
  run.prompt_tokens = 11;
  run.completion_tokens = 7;
  return run;
}

EffectRecord sample_effect(const std::string& key, const nlohmann::json& result) {
  EffectRecord effect;
  effect.key = key;
  effect.kind = "tool";
  effect.request = {{"name", "calculator"}, {"arguments", {{"expression", "1+1"}}}};
  effect.result = result;
  effect.elapsed_ms = 3.25;
  return effect;
}

TEST(RunStore, RunsRoundTripAndUpdate) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  EXPECT_EQ(store.path(), (tmp / "runs.db").string());
  const RunRecord run = sample_run("3b24aa00-run", 1700000000123.5);
  store.create_run(run);

  auto found = store.find_run(run.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->workflow_name, "review");
  EXPECT_EQ(found->workflow_file, "flows/review.yaml");
  EXPECT_EQ(found->workflow_yaml, run.workflow_yaml);
  EXPECT_EQ(found->inputs, run.inputs);
  EXPECT_EQ(found->state, "running");
  EXPECT_TRUE(found->outputs.is_null());
  EXPECT_EQ(found->created_unix_ms, 1700000000123.5);
  EXPECT_EQ(found->updated_unix_ms, 1700000000125.0);
  EXPECT_EQ(found->prompt_tokens, 11);
  EXPECT_EQ(found->completion_tokens, 7);
  EXPECT_FALSE(store.find_run("nope"));

  EXPECT_NE(message_of([&] { store.create_run(run); }).find("already exists"), std::string::npos);

  RunRecord done = *found;
  done.state = "failed";
  done.outputs = {{"summary", "ok"}, {"list", {1, 2, 3}}};
  done.error = "step 'write' failed: boom";
  done.prompt_tokens = 120;
  done.completion_tokens = 45;
  done.updated_unix_ms = 1700000009999.25;
  done.workflow_name = "ignored";  // update_run changes only the mutable fields
  store.update_run(done);
  auto updated = store.find_run(run.id);
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->state, "failed");
  EXPECT_EQ(updated->outputs, done.outputs);
  EXPECT_EQ(updated->error, done.error);
  EXPECT_EQ(updated->prompt_tokens, 120);
  EXPECT_EQ(updated->completion_tokens, 45);
  EXPECT_EQ(updated->updated_unix_ms, 1700000009999.25);
  EXPECT_EQ(updated->workflow_name, "review");
  EXPECT_EQ(updated->created_unix_ms, run.created_unix_ms);

  RunRecord ghost = sample_run("ghost", 1);
  EXPECT_NE(message_of([&] { store.update_run(ghost); }).find("not in"), std::string::npos);

  // A replay run keeps its source; zero timestamps are filled with the current time.
  RunRecord replay = sample_run("replay-1", 0);
  replay.updated_unix_ms = 0;
  replay.replay_of = run.id;
  store.create_run(replay);
  auto replay_found = store.find_run("replay-1");
  ASSERT_TRUE(replay_found);
  EXPECT_EQ(replay_found->replay_of, run.id);
  EXPECT_GT(replay_found->created_unix_ms, 1.6e12);
  EXPECT_GT(replay_found->updated_unix_ms, 1.6e12);
}

TEST(RunStore, ListsRunsNewestFirstWithLimit) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  store.create_run(sample_run("a", 1000));
  store.create_run(sample_run("c", 3000));
  store.create_run(sample_run("b", 2000));
  auto all = store.list_runs();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "c");
  EXPECT_EQ(all[1].id, "b");
  EXPECT_EQ(all[2].id, "a");
  auto two = store.list_runs(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].id, "b");
  EXPECT_EQ(store.list_runs(0).size(), 3u);  // 0: no limit
}

TEST(RunStore, StepsRoundTripUpsertAndStartOrder) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  store.create_run(sample_run("r1", 1000));
  StepRecord step;
  step.run_id = "r1";
  step.step = "draft";
  step.iteration = 1;
  step.state = "running";
  step.input = {{"task", "draft"}, {"topic", "sqlite"}};
  step.attempts = 1;
  step.started_unix_ms = 2000.5;
  store.save_step(step);

  StepRecord later = step;
  later.step = "review";
  later.started_unix_ms = 3000;
  store.save_step(later);
  StepRecord second = step;
  second.iteration = 2;
  second.started_unix_ms = 4000;
  store.save_step(second);

  // Finishing the first step replaces its row, keeping the iteration apart.
  step.state = "done";
  step.output = {{"text", "a draft"}};
  step.attempts = 2;
  step.finished_unix_ms = 2500.75;
  step.prompt_tokens = 30;
  step.completion_tokens = 12;
  step.error = "first attempt timed out";
  store.save_step(step);

  auto found = store.find_step("r1", "draft", 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->run_id, "r1");
  EXPECT_EQ(found->state, "done");
  EXPECT_EQ(found->input, step.input);
  EXPECT_EQ(found->output, step.output);
  EXPECT_EQ(found->error, step.error);
  EXPECT_EQ(found->attempts, 2);
  EXPECT_EQ(found->started_unix_ms, 2000.5);
  EXPECT_EQ(found->finished_unix_ms, 2500.75);
  EXPECT_EQ(found->prompt_tokens, 30);
  EXPECT_EQ(found->completion_tokens, 12);
  auto iteration2 = store.find_step("r1", "draft", 2);
  ASSERT_TRUE(iteration2);
  EXPECT_EQ(iteration2->state, "running");
  EXPECT_TRUE(iteration2->output.is_null());
  EXPECT_FALSE(store.find_step("r1", "draft", 3));
  EXPECT_FALSE(store.find_step("r2", "draft", 1));

  auto steps = store.list_steps("r1");
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].step, "draft");
  EXPECT_EQ(steps[0].iteration, 1);
  EXPECT_EQ(steps[1].step, "review");
  EXPECT_EQ(steps[2].step, "draft");
  EXPECT_EQ(steps[2].iteration, 2);
  EXPECT_TRUE(store.list_steps("r2").empty());
}

TEST(RunStore, EffectsRoundTripAndSecondRecordIsIgnored) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  store.record_effect("r1", sample_effect("draft#1/tool#1", {{"result", 2}}));
  store.record_effect("r1", sample_effect("draft#1/tool#1", {{"result", 99}}));  // ignored
  store.record_effect("r1", sample_effect("draft#1/llm#1", "hello"));
  store.record_effect("r2", sample_effect("draft#1/tool#1", {{"result", 5}}));  // another run, same key

  auto first = store.find_effect("r1", "draft#1/tool#1");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, "tool");
  EXPECT_EQ(first->request["arguments"]["expression"], "1+1");
  EXPECT_EQ(first->result, (nlohmann::json{{"result", 2}}));
  EXPECT_EQ(first->elapsed_ms, 3.25);
  EXPECT_EQ(store.find_effect("r2", "draft#1/tool#1")->result["result"], 5);
  EXPECT_FALSE(store.find_effect("r1", "draft#1/tool#2"));

  auto effects = store.list_effects("r1");
  ASSERT_EQ(effects.size(), 2u);
  EXPECT_EQ(effects[0].key, "draft#1/tool#1");
  EXPECT_EQ(effects[1].key, "draft#1/llm#1");
  EXPECT_EQ(effects[1].result, "hello");
}

TEST(RunStore, EventsRoundTripInOrder) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  RunEvent started;
  started.type = "run_started";
  started.run_id = "r1";
  started.time_unix_ms = 1000.5;
  started.state = "running";
  started.data = {{"workflow", "review"}};
  RunEvent call;
  call.type = "llm_call";
  call.run_id = "r1";
  call.step = "draft";
  call.iteration = 2;
  call.time_unix_ms = 1001;
  call.elapsed_ms = 250.5;
  call.prompt_tokens = 40;
  call.completion_tokens = 9;
  call.data = {{"model", "m"}};
  RunEvent other = started;
  other.run_id = "r2";
  store.append_event(started);
  store.append_event(other);
  store.append_event(call);

  auto events = store.list_events("r1");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].to_json(), started.to_json());
  EXPECT_EQ(events[1].to_json(), call.to_json());
  EXPECT_EQ(events[1].step, "draft");
  EXPECT_EQ(events[1].iteration, 2);
  EXPECT_EQ(events[1].elapsed_ms, 250.5);
  EXPECT_EQ(events[1].completion_tokens, 9);
  EXPECT_EQ(store.list_events("r2").size(), 1u);
  EXPECT_TRUE(store.list_events("r3").empty());
}

TEST(RunStore, JournalLooksUpAndRecordsItsOwnRun) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  store.record_effect("other", sample_effect("s/tool#1", 1));
  auto journal = store.journal("r1");
  EXPECT_FALSE(journal->replaying());
  EXPECT_FALSE(journal->lookup("s/tool#1"));  // another run's effect is not this run's
  journal->record(sample_effect("s/tool#1", 42));
  EXPECT_EQ(journal->lookup("s/tool#1"), nlohmann::json(42));
  journal->record(sample_effect("s/tool#1", 43));  // ignored: the first record stays
  EXPECT_EQ(journal->lookup("s/tool#1"), nlohmann::json(42));
  EXPECT_EQ(store.find_effect("r1", "s/tool#1")->result, 42);
}

TEST(RunStore, ReplayJournalReadsTheRecordingAndCopiesWhatItReads) {
  TempDir tmp("run-store");
  RunStore store((tmp / "runs.db").string());
  store.record_effect("orig", sample_effect("s/llm#1", "recorded answer"));
  store.record_effect("orig", sample_effect("s/tool#1", {{"result", 2}}));

  auto replay = store.journal("replay", "orig");
  EXPECT_TRUE(replay->replaying());
  int performed = 0;
  auto perform = [&] {
    ++performed;
    return nlohmann::json("live answer");
  };
  EXPECT_EQ(run_once(replay.get(), "s/llm#1", "llm", {{"prompt", "p"}}, perform), "recorded answer");
  EXPECT_EQ(performed, 0);
  // The replay run's own journal now holds what it read (its trace is complete); the recording is untouched.
  auto copied = store.find_effect("replay", "s/llm#1");
  ASSERT_TRUE(copied);
  EXPECT_EQ(copied->result, "recorded answer");
  EXPECT_EQ(copied->kind, "tool");
  EXPECT_EQ(store.list_effects("replay").size(), 1u);
  EXPECT_EQ(store.list_effects("orig").size(), 2u);

  // A key the recording lacks diverges instead of performing.
  try {
    run_once(replay.get(), "s/llm#2", "llm", {}, perform);
    FAIL() << "expected replay divergence";
  } catch (const AgentError& e) {
    EXPECT_EQ(e.code(), StatusCode::failed);
    EXPECT_NE(std::string(e.what()).find("replay diverged"), std::string::npos);
  }
  EXPECT_EQ(performed, 0);
  EXPECT_FALSE(store.find_effect("replay", "s/llm#2"));
}

TEST(RunStore, RunOnceAcrossARestartPerformsOnce) {
  TempDir tmp("run-store");
  const std::string path = (tmp / "runs.db").string();
  int performed = 0;
  auto perform = [&] {
    ++performed;
    return nlohmann::json{{"value", performed}};
  };
  {
    RunStore first(path);
    auto journal = first.journal("r1");
    EXPECT_EQ(run_once(journal.get(), "s/tool#1", "tool", {{"a", 1}}, perform)["value"], 1);
    EXPECT_EQ(run_once(journal.get(), "s/tool#1", "tool", {{"a", 1}}, perform)["value"], 1);
  }
  // A new process: the same file opened again, a fresh journal object.
  RunStore second(path);
  auto journal = second.journal("r1");
  EXPECT_EQ(run_once(journal.get(), "s/tool#1", "tool", {{"a", 1}}, perform)["value"], 1);
  EXPECT_EQ(performed, 1);
  EXPECT_EQ(run_once(journal.get(), "s/tool#2", "tool", {{"a", 2}}, perform)["value"], 2);
  EXPECT_EQ(performed, 2);
  auto recorded = second.find_effect("r1", "s/tool#1");
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->request, (nlohmann::json{{"a", 1}}));
  EXPECT_GE(recorded->elapsed_ms, 0);
}

TEST(RunStore, ResolvesExactIdsAndUniquePrefixes) {
  TempDir tmp("run-store");
  const std::string path = (tmp / "runs.db").string();
  RunStore store(path);
  store.create_run(sample_run("3b24aa00", 1));
  store.create_run(sample_run("3b24bb11", 2));
  store.create_run(sample_run("3b24", 3));  // an id that is also a prefix of the others
  store.create_run(sample_run("9f00", 4));
  store.create_run(sample_run("a%_b", 5));

  EXPECT_EQ(store.resolve_run("3b24").id, "3b24");  // exact wins
  EXPECT_EQ(store.resolve_run("3b24a").id, "3b24aa00");
  EXPECT_EQ(store.resolve_run("9").id, "9f00");
  EXPECT_EQ(store.resolve_run("a%").id, "a%_b");  // no LIKE wildcards
  EXPECT_EQ(message_of([&] { store.resolve_run("3b2"); }),
            "run prefix '3b2' is ambiguous: matches 3b24aa00, 3b24bb11, 3b24");
  EXPECT_EQ(message_of([&] { store.resolve_run("zz"); }),
            "no run 'zz' in " + path + "; `chorus runs list --store " + path + "` shows the runs");
  EXPECT_EQ(message_of([&] { store.resolve_run("%"); }).rfind("no run '%'", 0), 0u);
  EXPECT_EQ(message_of([&] { store.resolve_run(""); }).rfind("no run ''", 0), 0u);
}

TEST(RunStore, RejectsFilesThatAreNotRunStores) {
  TempDir tmp("run-store");
  const auto text = tmp / "notes.txt";
  testing::write_file(text,
                      "this is not a database, just some text that is long enough to have a header........"
                      "................................................................................");
  std::string message = message_of([&] { RunStore store(text.string()); });
  EXPECT_EQ(message.rfind(text.string() + ": not a Chorus run store (", 0), 0u) << message;
  EXPECT_NE(message.find("); choose another --store file"), std::string::npos) << message;

  // Another program's SQLite database.
  const auto foreign = tmp / "foreign.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE contacts (name TEXT)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  message = message_of([&] { RunStore store(foreign.string()); });
  EXPECT_EQ(message,
            foreign.string() +
                ": not a Chorus run store (it holds another program's tables: contacts); choose another "
                "--store file");

  // A run store of another schema version.
  const auto future = tmp / "future.db";
  { RunStore store(future.string()); }
  ASSERT_EQ(sqlite3_open(future.string().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  message = message_of([&] { RunStore store(future.string()); });
  EXPECT_NE(message.find("not a Chorus run store (schema version 7"), std::string::npos) << message;

  // A folder that does not exist.
  message = message_of([&] { RunStore store((tmp / "missing/dir/runs.db").string()); });
  EXPECT_NE(message.find("cannot open the run store"), std::string::npos) << message;

  // An empty file (e.g. made by `touch`) becomes a store.
  testing::write_file(tmp / "empty.db", "");
  RunStore empty((tmp / "empty.db").string());
  EXPECT_TRUE(empty.list_runs().empty());
}

TEST(RunStore, UsesWalModeAndReopensItsOwnFile) {
  TempDir tmp("run-store");
  const std::string path = (tmp / "runs.db").string();
  {
    RunStore store(path);
    store.create_run(sample_run("r1", 1));
  }
  RunStore again(path);
  ASSERT_TRUE(again.find_run("r1"));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(RunStore, ConcurrentWritersThreadsAndConnectionsOnOneFile) {
  TempDir tmp("run-store");
  const std::string path = (tmp / "runs.db").string();
  RunStore shared(path);
  RunStore other(path);
  shared.create_run(sample_run("r", 1));
  constexpr int kPerWriter = 150;
  std::atomic<int> failures = 0;
  // Four writers: two threads on one object, one thread on a second object, one thread opening its own.
  auto write = [&](RunStore& store, const std::string& who) {
    try {
      for (int i = 0; i < kPerWriter; ++i) {
        const std::string n = std::to_string(i);
        store.record_effect("r", sample_effect(who + "/tool#" + n, i));
        store.record_effect("r", sample_effect("common/tool#" + n, who));  // all race for the same keys
        store.append_event(
            RunEvent::from_json({{"type", "log"}, {"run_id", "r"}, {"data", {{"who", who}, {"i", i}}}}));
        StepRecord step;
        step.run_id = "r";
        step.step = who;
        step.iteration = i + 1;
        step.state = "done";
        store.save_step(step);
        (void)store.list_effects("r");  // readers interleave with the writers
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << who << ": " << e.what();
      ++failures;
    }
  };
  std::thread a([&] { write(shared, "a"); });
  std::thread b([&] { write(shared, "b"); });
  std::thread c([&] { write(other, "c"); });
  std::thread d([&] {
    RunStore own(path);
    write(own, "d");
  });
  a.join();
  b.join();
  c.join();
  d.join();
  EXPECT_EQ(failures, 0);

  RunStore check(path);
  EXPECT_EQ(check.list_effects("r").size(), 5u * kPerWriter);  // 4 writers' own keys + one per common key
  EXPECT_EQ(check.list_events("r").size(), 4u * kPerWriter);
  EXPECT_EQ(check.list_steps("r").size(), 4u * kPerWriter);
  // Each writer's events keep their order.
  int last_a = -1;
  for (const auto& event : check.list_events("r")) {
    if (event.data["who"] != "a") continue;
    EXPECT_EQ(event.data["i"].get<int>(), last_a + 1);
    last_a = event.data["i"].get<int>();
  }
  EXPECT_EQ(last_a, kPerWriter - 1);
}

TEST(RunStore, SimultaneousFirstOpensOfANewFileAllSucceed) {
  for (int round = 0; round < 5; ++round) {
    TempDir tmp("run-store");
    const std::string path = (tmp / "runs.db").string();
    std::atomic<int> failures = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        try {
          RunStore store(path);
          store.create_run(sample_run("run-" + std::to_string(t), t + 1));
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
          ++failures;
        }
      });
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(RunStore(path).list_runs().size(), 4u);
  }
}

}  // namespace
}  // namespace chorus::runtime
