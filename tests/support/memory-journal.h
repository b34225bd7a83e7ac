#pragma once
// MemoryJournal: an in-memory EffectJournal for tests of agents and the runtime (a test double of the interface;
// the SQLite run store is the real one, tested on its own).
#include "runtime/effect-journal.h"

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace chorus::testing {

class MemoryJournal final : public runtime::EffectJournal {
 public:
  explicit MemoryJournal(bool replaying = false) : replaying_(replaying) {}
  std::optional<nlohmann::json> lookup(const std::string& key) override {
    std::lock_guard lock(mutex_);
    auto it = records_.find(key);
    if (it == records_.end()) return std::nullopt;
    return it->second.result;
  }
  void record(const runtime::EffectRecord& record) override {
    std::lock_guard lock(mutex_);
    records_[record.key] = record;
  }
  bool replaying() const override { return replaying_; }
  // Every record so far, by key.
  std::map<std::string, runtime::EffectRecord> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }
  // Records `result` under `key` as if an earlier execution had performed it.
  void put(const std::string& key, const std::string& kind, nlohmann::json result) {
    runtime::EffectRecord r;
    r.key = key;
    r.kind = kind;
    r.result = std::move(result);
    record(r);
  }

 private:
  bool replaying_;
  std::mutex mutex_;
  std::map<std::string, runtime::EffectRecord> records_;
};

}  // namespace chorus::testing
