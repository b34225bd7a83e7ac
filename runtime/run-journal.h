#pragma once
// The effect journal of a run as agents see it: the store's journal (reading from the recorded run when the run
// is a replay) that also reports each recorded effect as an llm_call / tool_call event.
#include "runtime/effect-journal.h"
#include "runtime/run-event.h"
#include "runtime/run-store.h"

#include <memory>
#include <string>

namespace chorus::runtime {

// The journal for messages of run `run_id` (their trace id). Replays (RunRecord::replay_of set) read effects from
// the recorded run. Each newly recorded effect is appended to the store's events and passed to `on_event`.
// Returns nullptr when `run_id` is not a run in `store` (messages outside workflow runs).
std::shared_ptr<EffectJournal> journal_for_run(RunStore& store, const std::string& run_id,
                                               RunEventSink on_event = {});

}  // namespace chorus::runtime
