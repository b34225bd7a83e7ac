#pragma once
// ProgressDisplay: a run's progress for people. On a terminal, a live block with one line per step (state,
// elapsed time, tokens) redrawn in place at most ~10 times a second; elsewhere, plain timestamped lines such as
// "12:00:01 plan#1 done 1.2s 340 tokens".
#include "runtime/run-event.h"

#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace chorus::runtime {

class ProgressDisplay {
 public:
  // Writes to `out` (not owned); `live` redraws a block with ANSI escapes (for a terminal), else plain lines.
  ProgressDisplay(std::ostream& out, bool live);
  ~ProgressDisplay();  // finish()
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Shows one event (thread-safe).
  void on_event(const RunEvent& event);
  // A sink forwarding to on_event (the display must outlive it).
  RunEventSink sink();
  // Draws the final state and stops redrawing; later events are still shown.
  void finish();

 private:
  struct StepLine {
    std::string label;  // "plan#1"
    std::string state;
    double started_unix_ms = 0;
    double elapsed_ms = 0;  // when finished
    long long tokens = 0;
    std::string note;       // the latest tool/model call, or the error
  };

  StepLine& line_for(const RunEvent& event);
  void plain(const RunEvent& event);
  void redraw_locked();
  void ticker();

  std::ostream& out_;
  const bool live_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<StepLine> lines_;
  std::vector<std::string> notices_;  // lines shown under the block (waiting for input, budget, errors)
  std::string header_;
  std::string run_state_;
  double run_started_unix_ms_ = 0;
  long long run_tokens_ = 0;
  int drawn_lines_ = 0;
  bool dirty_ = false;
  bool stopping_ = false;
  int frame_ = 0;
  std::thread thread_;
};

// True when standard error is a terminal (and TERM is not "dumb").
bool stderr_is_terminal();

}  // namespace chorus::runtime
