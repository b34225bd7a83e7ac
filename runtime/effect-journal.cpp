#include "runtime/effect-journal.h"

#include "runtime/agent-error.h"

#include <chrono>

namespace chorus::runtime {

nlohmann::json run_once(EffectJournal* journal, const std::string& key, const std::string& kind,
                        const nlohmann::json& request, const std::function<nlohmann::json()>& perform) {
  if (!journal) return perform();
  if (auto recorded = journal->lookup(key)) return *recorded;
  if (journal->replaying())
    throw AgentError(StatusCode::failed, "replay diverged: effect '" + key + "' (" + kind +
                                             ") was not in the recorded run, so the agent asked for something "
                                             "the original run did not");
  auto start = std::chrono::steady_clock::now();
  nlohmann::json result = perform();
  EffectRecord record;
  record.key = key;
  record.kind = kind;
  record.request = request;
  record.result = result;
  record.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  journal->record(record);
  return result;
}

}  // namespace chorus::runtime
