#pragma once
// WorkflowEngine: runs a WorkflowSpec's flow over an AgentRuntime, checkpointing every step in a RunStore.
#include "runtime/agent-runtime.h"
#include "runtime/run-event.h"
#include "runtime/run-store.h"
#include "runtime/workflow-spec.h"

#include <map>
#include <memory>
#include <string>

namespace chorus::runtime {

class WorkflowEngine {
 public:
  // Neither is owned; both must outlive the engine. The engine installs the store's journals on `runtime`.
  WorkflowEngine(AgentRuntime& runtime, RunStore& store);

  // Starts a new run and blocks until it is done, failed, or waiting for human input; returns its record.
  // `yaml_text` is stored with the run so resume and replay use exactly what ran.
  RunRecord start(const WorkflowSpec& spec, const std::string& yaml_text, const nlohmann::json& inputs,
                  const RunEventSink& on_event = {}, const std::string& run_id = "");
  // Continues a failed, interrupted or waiting run from its last checkpoints: finished steps are not run again and
  // recorded effects (tool calls, LLM calls) are reused. `human_inputs` answers human_input steps.
  RunRecord resume(const std::string& run_id, const std::map<std::string, std::string>& human_inputs = {},
                   const RunEventSink& on_event = {});
  // Re-executes a finished run as a new run whose LLM responses and tool results come from the recording;
  // the new run's outputs must equal the original's (a difference is reported as the run's error).
  RunRecord replay(const std::string& run_id, const RunEventSink& on_event = {});

 private:
  struct LiveRuns;  // the event sinks of runs in progress, for the journal provider (agents' llm/tool events)
  AgentRuntime& runtime_;
  RunStore& store_;
  std::shared_ptr<LiveRuns> live_;
};

}  // namespace chorus::runtime
