#pragma once
// RunEvent: one entry of a run's structured event stream (the JSONL trace, live progress, the store).
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace chorus::runtime {

// Event types: run_started, run_finished, step_started, step_finished, message, llm_call, tool_call,
// human_input_requested, budget_exceeded, log.
struct RunEvent {
  std::string type;
  std::string run_id;
  std::string step;          // step name ("" for run-level events)
  int iteration = 0;         // which execution of the step (loops), from 1
  double time_unix_ms = 0;   // when it happened
  double elapsed_ms = 0;     // duration, for *_finished, llm_call, tool_call
  std::string state;         // for step/run events: pending|running|done|failed|waiting|skipped|cancelled
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
  nlohmann::json data;       // type-specific details (request/response summaries, error text, ...)

  // One JSON object (the JSONL line); absent or zero fields are omitted.
  nlohmann::json to_json() const;
  static RunEvent from_json(const nlohmann::json& j);
};

// Receives events as they happen (progress display, trace file, store, a client stream).
using RunEventSink = std::function<void(const RunEvent&)>;

}  // namespace chorus::runtime
