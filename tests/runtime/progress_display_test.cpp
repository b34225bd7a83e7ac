// ProgressDisplay: plain timestamped lines off a terminal, a redrawn ANSI block on one.
#include "runtime/progress-display.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

namespace chorus::runtime {
namespace {

RunEvent event(std::string type, std::string step = "", int iteration = 0, std::string state = "") {
  RunEvent e;
  e.type = std::move(type);
  e.run_id = "3b241101-e2bb-4255-8caf-4136c566a962";
  e.step = std::move(step);
  e.iteration = iteration;
  e.state = std::move(state);
  e.time_unix_ms = 1.7e12;
  return e;
}

std::vector<RunEvent> a_run() {
  std::vector<RunEvent> events;
  auto started = event("run_started", "", 0, "running");
  started.data = {{"workflow", "essay"}};
  events.push_back(started);
  events.push_back(event("step_started", "plan", 1, "running"));
  auto call = event("tool_call", "plan", 1);
  call.elapsed_ms = 12;
  call.data = {{"name", "calculator"}, {"request", "calculator {}"}};
  events.push_back(call);
  auto done = event("step_finished", "plan", 1, "done");
  done.elapsed_ms = 1234;
  done.prompt_tokens = 300;
  done.completion_tokens = 40;
  events.push_back(done);
  auto failed = event("step_finished", "solve", 1, "failed");
  failed.elapsed_ms = 80;
  failed.data = {{"error", "step solve#1 failed after 1 attempt: failed: boom"}};
  events.push_back(failed);
  auto finished = event("run_finished", "", 0, "failed");
  finished.elapsed_ms = 1400;
  finished.data = {{"error", "step solve#1 failed after 1 attempt: failed: boom"}};
  events.push_back(finished);
  return events;
}

TEST(ProgressDisplay, PlainLinesHaveTimeStepStateElapsedAndTokens) {
  std::ostringstream out;
  {
    ProgressDisplay display(out, false);
    for (const auto& e : a_run()) display.on_event(e);
  }
  const std::string text = out.str();
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_NE(text.find("run 3b241101-e2bb-4255-8caf-4136c566a962 started: essay\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" plan#1 tool calculator 12ms\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" plan#1 done 1.2s 340 tokens\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" solve#1 failed 80ms: step solve#1 failed"), std::string::npos) << text;
  EXPECT_NE(text.find(" run 3b241101-e2bb-4255-8caf-4136c566a962 failed 1.4s: step solve#1"), std::string::npos)
      << text;
  // Every line starts with a HH:MM:SS time.
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    ASSERT_GE(line.size(), 9u);
    EXPECT_EQ(line[2], ':') << line;
    EXPECT_EQ(line[5], ':') << line;
  }
}

TEST(ProgressDisplay, LiveBlockIsRedrawnInPlace) {
  std::ostringstream out;
  {
    ProgressDisplay display(out, true);
    auto events = a_run();
    for (size_t i = 0; i + 1 < events.size(); ++i) display.on_event(events[i]);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the ticker redraws the running block
    display.on_event(events.back());
  }
  const std::string text = out.str();
  EXPECT_NE(text.find("\x1b[2K"), std::string::npos);
  EXPECT_NE(text.find("F\x1b[2K"), std::string::npos) << "a redraw moves the cursor up over the block first";
  // The last frame: header with the outcome, one line per step, the error.
  const std::string last = text.substr(text.rfind("run 3b241101"));
  EXPECT_NE(last.find("failed 1.4s"), std::string::npos) << last;
  EXPECT_NE(last.find("plan#1"), std::string::npos);
  EXPECT_NE(last.find("340 tokens"), std::string::npos);
  EXPECT_NE(last.find("solve#1"), std::string::npos);
  EXPECT_NE(last.find("failed: step solve#1 failed after 1 attempt"), std::string::npos) << last;
}

}  // namespace
}  // namespace chorus::runtime
