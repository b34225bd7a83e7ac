#include "runtime/run-journal.h"

#include "runtime/event-summary.h"

#include <chrono>
#include <cstdlib>

namespace chorus::runtime {
namespace {

double now_unix_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The step and iteration an effect key belongs to: "<step>#<iteration>/<kind>#<n>" (engine scopes); other
// scopes (messages outside a step) give the whole scope as the step and iteration 0.
void split_scope(const std::string& key, std::string& step, int& iteration) {
  std::string scope = key.substr(0, key.find('/'));
  iteration = 0;
  step = scope;
  auto hash = scope.rfind('#');
  if (hash == std::string::npos || hash + 1 >= scope.size()) return;
  char* end = nullptr;
  long n = std::strtol(scope.c_str() + hash + 1, &end, 10);
  if (*end != '\0' || n <= 0) return;
  step = scope.substr(0, hash);
  iteration = static_cast<int>(n);
}

// The store's journal, reporting every effect it records (and, in a replay, every recorded effect it reuses).
class EventingJournal final : public EffectJournal {
 public:
  EventingJournal(RunStore& store, std::string run_id, std::shared_ptr<EffectJournal> inner, RunEventSink sink)
      : store_(store), run_id_(std::move(run_id)), inner_(std::move(inner)), sink_(std::move(sink)) {}

  std::optional<nlohmann::json> lookup(const std::string& key) override {
    auto result = inner_->lookup(key);
    // A replay reuses the recording: report it so the replay's trace shows the same calls.
    if (result && inner_->replaying())
      if (auto effect = store_.find_effect(run_id_, key)) report(*effect, true);
    return result;
  }

  void record(const EffectRecord& effect) override {
    inner_->record(effect);
    report(effect, false);
  }

  bool replaying() const override { return inner_->replaying(); }

 private:
  void report(const EffectRecord& effect, bool replayed) {
    RunEvent event;
    event.type = effect.kind == "llm" ? "llm_call" : "tool_call";
    event.run_id = run_id_;
    split_scope(effect.key, event.step, event.iteration);
    event.time_unix_ms = now_unix_ms();
    event.elapsed_ms = effect.elapsed_ms;
    if (effect.result.is_object())
      if (auto usage = effect.result.find("usage"); usage != effect.result.end() && usage->is_object()) {
        event.prompt_tokens = usage->value("prompt_tokens", 0LL);
        event.completion_tokens = usage->value("completion_tokens", 0LL);
      }
    event.data = {{"key", effect.key},
                  {"kind", effect.kind},
                  {"request", summarize_json(effect.request)},
                  {"result", summarize_json(effect.result)}};
    if (effect.request.is_object() && effect.request.contains("name") && effect.request["name"].is_string())
      event.data["name"] = effect.request["name"];
    if (replayed) event.data["replayed"] = true;
    store_.append_event(event);
    if (sink_) sink_(event);
  }

  RunStore& store_;
  std::string run_id_;
  std::shared_ptr<EffectJournal> inner_;
  RunEventSink sink_;
};

}  // namespace

std::shared_ptr<EffectJournal> journal_for_run(RunStore& store, const std::string& run_id, RunEventSink on_event) {
  if (run_id.empty()) return nullptr;
  auto run = store.find_run(run_id);
  if (!run) return nullptr;
  return std::make_shared<EventingJournal>(store, run_id, store.journal(run_id, run->replay_of), std::move(on_event));
}

}  // namespace chorus::runtime
