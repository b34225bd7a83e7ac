#pragma once
// EffectJournal: durable side effects (LLM calls, tool calls) of a run, so resume and replay never repeat one.
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace chorus::runtime {

// One effect as recorded.
struct EffectRecord {
  std::string key;          // "<scope>/<kind>#<n>", unique within the run
  std::string kind;         // "llm", "tool", or an agent-defined kind
  nlohmann::json request;   // what was asked (for traces and replay diagnostics)
  nlohmann::json result;    // what came back
  double elapsed_ms = 0;
};

// The journal of one run. Implementations: the SQLite run store (in-process) and the worker's proxy to the host.
class EffectJournal {
 public:
  virtual ~EffectJournal() = default;
  // The recorded result of `key`, when that effect completed before (in this run or the run being replayed).
  virtual std::optional<nlohmann::json> lookup(const std::string& key) = 0;
  // Durably records a completed effect before its result is used; throws std::runtime_error when it cannot.
  virtual void record(const EffectRecord& record) = 0;
  // True while replaying: an effect missing from the journal is an error instead of being performed.
  virtual bool replaying() const = 0;
};

// Runs `perform` at most once per key: the recorded result when there is one, else performs, records, returns.
// With journal == nullptr it just performs. In replay a missing key throws AgentError(failed, "replay diverged...").
nlohmann::json run_once(EffectJournal* journal, const std::string& key, const std::string& kind,
                        const nlohmann::json& request, const std::function<nlohmann::json()>& perform);

}  // namespace chorus::runtime
