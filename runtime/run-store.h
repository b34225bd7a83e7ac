#pragma once
// RunStore: durable runs in SQLite (runs, step checkpoints, effects, messages, events); safe across processes.
#include "runtime/effect-journal.h"
#include "runtime/run-event.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chorus::runtime {

// Run states: running, waiting (human input), done, failed, cancelled.
struct RunRecord {
  std::string id;
  std::string workflow_name;
  std::string workflow_file;   // path as given
  std::string workflow_yaml;   // the exact text the run started from (resume uses it, not the file)
  nlohmann::json inputs = nlohmann::json::object();
  std::string state = "running";
  nlohmann::json outputs;      // final outputs when done
  std::string error;           // why it failed / what it waits for
  std::string replay_of;       // the recorded run a replay reads its effects from
  double created_unix_ms = 0;
  double updated_unix_ms = 0;
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
};

// One execution of a step (a checkpoint once state is "done").
struct StepRecord {
  std::string run_id;
  std::string step;
  int iteration = 1;
  std::string state = "running";  // running|done|failed|waiting|skipped
  nlohmann::json input;           // the request sent to the agent
  nlohmann::json output;          // the agent's reply when done
  std::string error;
  int attempts = 0;
  double started_unix_ms = 0;
  double finished_unix_ms = 0;
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
};

class RunStore {
 public:
  // Opens (creating if needed) the SQLite file; WAL mode, busy timeout. Throws std::runtime_error naming the
  // file and the fix when it cannot be opened or holds another program's data.
  explicit RunStore(const std::string& path);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  const std::string& path() const;
  // Runs ------------------------------------------------------------------------------------------------------
  void create_run(const RunRecord& run);  // throws if the id exists
  void update_run(const RunRecord& run);  // state, outputs, error, tokens, updated time
  std::optional<RunRecord> find_run(const std::string& id) const;
  // A run by id or unique id prefix (as users type "chorus runs show 3b24"); throws naming ambiguity/absence.
  RunRecord resolve_run(const std::string& id_or_prefix) const;
  std::vector<RunRecord> list_runs(int limit = 50) const;  // newest first
  // Steps (checkpoints) ---------------------------------------------------------------------------------------
  void save_step(const StepRecord& step);  // insert or replace (run_id, step, iteration)
  std::optional<StepRecord> find_step(const std::string& run_id, const std::string& step, int iteration) const;
  std::vector<StepRecord> list_steps(const std::string& run_id) const;  // in start order
  // Effects (journal) -----------------------------------------------------------------------------------------
  std::optional<EffectRecord> find_effect(const std::string& run_id, const std::string& key) const;
  void record_effect(const std::string& run_id, const EffectRecord& effect);  // a second record of a key is ignored
  std::vector<EffectRecord> list_effects(const std::string& run_id) const;
  // The journal of `run_id`; with `replay_source` set, lookups read that run's effects and a miss is an error.
  std::shared_ptr<EffectJournal> journal(const std::string& run_id, const std::string& replay_source = "");
  // Events (the trace) ----------------------------------------------------------------------------------------
  void append_event(const RunEvent& event);
  std::vector<RunEvent> list_events(const std::string& run_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::runtime
