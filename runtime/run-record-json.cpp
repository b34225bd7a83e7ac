#include "runtime/run-record-json.h"

namespace chorus::runtime {

nlohmann::json run_record_to_json(const RunRecord& run) {
  return {{"id", run.id},
          {"workflow_name", run.workflow_name},
          {"workflow_file", run.workflow_file},
          {"workflow_yaml", run.workflow_yaml},
          {"inputs", run.inputs},
          {"state", run.state},
          {"outputs", run.outputs},
          {"error", run.error},
          {"replay_of", run.replay_of},
          {"created_unix_ms", run.created_unix_ms},
          {"updated_unix_ms", run.updated_unix_ms},
          {"prompt_tokens", run.prompt_tokens},
          {"completion_tokens", run.completion_tokens}};
}

RunRecord run_record_from_json(const nlohmann::json& j) {
  RunRecord run;
  run.id = j.value("id", "");
  run.workflow_name = j.value("workflow_name", "");
  run.workflow_file = j.value("workflow_file", "");
  run.workflow_yaml = j.value("workflow_yaml", "");
  if (j.contains("inputs")) run.inputs = j["inputs"];
  run.state = j.value("state", "running");
  if (j.contains("outputs")) run.outputs = j["outputs"];
  run.error = j.value("error", "");
  run.replay_of = j.value("replay_of", "");
  run.created_unix_ms = j.value("created_unix_ms", 0.0);
  run.updated_unix_ms = j.value("updated_unix_ms", 0.0);
  run.prompt_tokens = j.value("prompt_tokens", 0LL);
  run.completion_tokens = j.value("completion_tokens", 0LL);
  return run;
}

}  // namespace chorus::runtime
