#include "runtime/run-event.h"

namespace chorus::runtime {

nlohmann::json RunEvent::to_json() const {
  nlohmann::json j{{"type", type}, {"run_id", run_id}, {"time_unix_ms", time_unix_ms}};
  if (!step.empty()) j["step"] = step;
  if (iteration) j["iteration"] = iteration;
  if (elapsed_ms) j["elapsed_ms"] = elapsed_ms;
  if (!state.empty()) j["state"] = state;
  if (prompt_tokens) j["prompt_tokens"] = prompt_tokens;
  if (completion_tokens) j["completion_tokens"] = completion_tokens;
  if (!data.is_null()) j["data"] = data;
  return j;
}

RunEvent RunEvent::from_json(const nlohmann::json& j) {
  RunEvent e;
  e.type = j.value("type", "");
  e.run_id = j.value("run_id", "");
  e.step = j.value("step", "");
  e.iteration = j.value("iteration", 0);
  e.time_unix_ms = j.value("time_unix_ms", 0.0);
  e.elapsed_ms = j.value("elapsed_ms", 0.0);
  e.state = j.value("state", "");
  e.prompt_tokens = j.value("prompt_tokens", 0LL);
  e.completion_tokens = j.value("completion_tokens", 0LL);
  e.data = j.value("data", nlohmann::json());
  return e;
}

}  // namespace chorus::runtime
