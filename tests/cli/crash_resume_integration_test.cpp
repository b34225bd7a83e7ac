// The durability promise end to end, with real processes on loopback: a host, two workers, a workflow whose
// agent calls a tool with a side effect (an HTTP request counted by a local server). The worker is killed with
// SIGKILL after the tool call completed but before its step finished; after a restart, `chorus runs resume`
// finishes the run without running finished steps again and without repeating the tool call.
#include "runtime/run-store.h"
#include "tests/support/child-process.h"
#include "tests/support/replay-http-server.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <map>
#include <sstream>
#include <thread>

namespace chorus::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string workflow_yaml(const std::string& url) {
  return R"(name: crash-resume
description: a planner, a fetcher whose tool call has a side effect, and a reporter
agents:
  planner:
    kind: assistant
    llm: {provider: scripted, responses: ["Plan: fetch the page once, then report."]}
  fetcher:
    kind: assistant
    tools: [http_fetch]
    llm:
      provider: scripted
      responses:
        - tool_calls: [{name: http_fetch, arguments: {url: ")" +
         url + R"("}}]
        - {content: "fetched once", delay_ms: 5000}
tasks:
  plan: {description: "Plan the fetch.", agent: planner}
  fetch: {description: "Fetch the page.", agent: fetcher, context: [plan]}
  report: {description: "Report what was fetched.", agent: planner, context: [fetch]}
)";
}

// The id of the only run in the store.
std::string only_run_id(const std::string& store) {
  auto listed = run_chorus({"runs", "list", "--store", store, "--json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  json runs = json::parse(listed.out);
  EXPECT_EQ(runs.size(), 1u) << listed.out;
  return runs.empty() ? "" : runs[0]["id"].get<std::string>();
}

// How many tool calls the store's journal holds, over all runs (the host writes it; WAL lets us read).
int journaled_tool_calls(const std::string& store_path) {
  runtime::RunStore store(store_path);
  int count = 0;
  for (const auto& run : store.list_runs())
    for (const auto& effect : store.list_effects(run.id)) count += effect.kind == "tool";
  return count;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

TEST(CrashResume, KilledWorkerThenResumeRunsNoStepAndNoToolCallTwice) {
  TempDir dir("crash-resume");
  ReplayHttpServer side_effects;
  side_effects.route("GET", "/effect", {ReplayResponse::text(200, "the page")});
  const std::string wf = (dir / "crash.yaml").string();
  write_file(wf, workflow_yaml(side_effects.url("/effect")));
  const std::string store = (dir / "runs.db").string();
  const std::vector<std::string> fetch_env = {"CHORUS_HTTP_FETCH_ALLOW=127.0.0.1"};

  std::string address;
  auto host = start_host({"--store", store, "--on-worker-loss", "fail"}, address);
  auto planner = start_worker(address, {"--workflow", wf, "--agents", "planner", "--name", "planner-worker"});
  auto fetcher = start_worker(address, {"--workflow", wf, "--agents", "fetcher", "--name", "fetcher-1"}, fetch_env);

  auto run = start_chorus({"run", wf, "--connect", address});
  // The tool call happened and its result is journaled on the host; the fetcher now waits 5 s for its second
  // model turn, and is killed during that wait.
  ASSERT_TRUE(wait_until([&] { return side_effects.request_count() == 1; }, 60s)) << run->err() << host->err();
  ASSERT_TRUE(wait_until([&] { return journaled_tool_calls(store) == 1; }, 30s)) << run->err() << host->err();
  fetcher->signal(SIGKILL);
  auto exit_code = run->wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << run->err();
  EXPECT_EQ(*exit_code, 1) << run->out() << run->err();
  EXPECT_NE(run->err().find("disconnected"), std::string::npos) << run->err();

  const std::string run_id = only_run_id(store);
  auto shown = run_chorus({"runs", "show", run_id, "--store", store, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  json before = json::parse(shown.out);
  EXPECT_EQ(before["state"], "failed") << shown.out;

  // Restart the worker and resume: `plan` comes from its checkpoint, the fetcher's first model turn and its tool
  // call come from the journal, only the second model turn and `report` run.
  auto fetcher2 = start_worker(address, {"--workflow", wf, "--agents", "fetcher", "--name", "fetcher-2"}, fetch_env);
  auto resumed = run_chorus({"runs", "resume", run_id, "--connect", address});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  json outputs = json::parse(resumed.out);
  EXPECT_EQ(outputs["fetch"], "fetched once") << resumed.out;
  EXPECT_EQ(outputs["plan"], "Plan: fetch the page once, then report.");
  EXPECT_EQ(side_effects.request_count(), 1u) << "the tool call ran again after the resume";

  auto after = run_chorus({"runs", "show", run_id, "--store", store, "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  json record = json::parse(after.out);
  EXPECT_EQ(record["state"], "done");
  int tool_effects = 0;
  for (const auto& effect : record["effects"])
    if (effect["kind"] == "tool") ++tool_effects;
  EXPECT_EQ(tool_effects, 1) << after.out;
  ASSERT_EQ(record["steps"].size(), 3u) << after.out;
  for (const auto& step : record["steps"]) EXPECT_EQ(step["state"], "done") << step.dump();
  EXPECT_EQ(outputs["report"], "Plan: fetch the page once, then report.");  // the planner's canned answer

  // `plan` was sent to its agent once (the resume took it from its checkpoint); `fetch` twice (killed, resumed).
  auto trace = run_chorus({"runs", "trace", run_id, "--store", store});
  ASSERT_EQ(trace.exit_code, 0) << trace.err;
  std::map<std::string, int> started, from_checkpoint;
  std::istringstream lines(trace.out);
  for (std::string line; std::getline(lines, line);) {
    json event = json::parse(line);
    if (event["type"] == "step_started") ++started[event["step"].get<std::string>()];
    if (event["type"] == "step_finished" && event.contains("data") && event["data"].value("from_checkpoint", false))
      ++from_checkpoint[event["step"].get<std::string>()];
  }
  EXPECT_EQ(started["plan"], 1) << trace.out;
  EXPECT_EQ(from_checkpoint["plan"], 1) << trace.out;
  EXPECT_EQ(started["fetch"], 2) << trace.out;
  EXPECT_EQ(started["report"], 1) << trace.out;
}

}  // namespace
}  // namespace chorus::testing
