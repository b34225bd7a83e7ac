// RunStore on SQLite: one connection per object behind a mutex; WAL + busy timeout so several processes (a
// host and `chorus runs` readers, or two hosts) share one file.
//
// Schema (version kSchemaVersion in PRAGMA user_version, kApplicationId in PRAGMA application_id), see
// kSchema:
//   runs(id PRIMARY KEY, workflow fields, inputs/outputs JSON, state, error, replay_of, times, tokens)
//   steps(PRIMARY KEY (run_id, step, iteration), state, input/output JSON, error, attempts, times, tokens)
//   effects(PRIMARY KEY (run_id, key), kind, request/result JSON, elapsed_ms)
//   events(seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id, type, event = RunEvent::to_json())
// JSON columns hold text (nlohmann dump); timestamps are unix milliseconds as REAL.
#include "runtime/run-store.h"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace chorus::runtime {
namespace {

constexpr int kSchemaVersion = 1;
constexpr int kApplicationId = 0x43484f52;  // "CHOR"
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kSchema = R"SQL(
CREATE TABLE runs (
  id                TEXT PRIMARY KEY,
  workflow_name     TEXT NOT NULL,
  workflow_file     TEXT NOT NULL,
  workflow_yaml     TEXT NOT NULL,
  inputs            TEXT NOT NULL,
  state             TEXT NOT NULL,
  outputs           TEXT NOT NULL,
  error             TEXT NOT NULL,
  replay_of         TEXT NOT NULL,
  created_unix_ms   REAL NOT NULL,
  updated_unix_ms   REAL NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL
);
CREATE INDEX runs_by_created ON runs(created_unix_ms);
CREATE TABLE steps (
  run_id            TEXT NOT NULL,
  step              TEXT NOT NULL,
  iteration         INTEGER NOT NULL,
  state             TEXT NOT NULL,
  input             TEXT NOT NULL,
  output            TEXT NOT NULL,
  error             TEXT NOT NULL,
  attempts          INTEGER NOT NULL,
  started_unix_ms   REAL NOT NULL,
  finished_unix_ms  REAL NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  PRIMARY KEY (run_id, step, iteration)
);
CREATE TABLE effects (
  run_id     TEXT NOT NULL,
  key        TEXT NOT NULL,
  kind       TEXT NOT NULL,
  request    TEXT NOT NULL,
  result     TEXT NOT NULL,
  elapsed_ms REAL NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE events (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  type   TEXT NOT NULL,
  event  TEXT NOT NULL
);
CREATE INDEX events_by_run ON events(run_id, seq);
)SQL";

double now_unix_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump();
}

nlohmann::json parse_json(const std::string& text) {
  if (text.empty()) return nullptr;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// One prepared statement, reset and unbound when the holder goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const std::string& file) : db_(db), stmt_(stmt), file_(file) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, double value) {
    check(sqlite3_bind_double(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, long long value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, int value) {
    check(sqlite3_bind_int(stmt_, index, value));
    return *this;
  }
  // Steps once: true while a row is available; throws on failure. SQLITE_CONSTRAINT is reported by
  // `constraint`.
  bool step(bool* constraint = nullptr) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (constraint && (rc & 0xff) == SQLITE_CONSTRAINT) {
      *constraint = true;
      return false;
    }
    throw std::runtime_error(file_ + ": SQLite error: " + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), sqlite3_column_bytes(stmt_, column)) : "";
  }
  nlohmann::json json(int column) const { return parse_json(text(column)); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  long long integer(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw std::runtime_error(file_ + ": SQLite bind failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const std::string& file_;
};

std::string not_a_store(const std::string& path, const std::string& why) {
  return path + ": not a Chorus run store (" + why + "); choose another --store file";
}

constexpr const char* kRunColumns =
    "id, workflow_name, workflow_file, workflow_yaml, inputs, state, outputs, error, replay_of, "
    "created_unix_ms, "
    "updated_unix_ms, prompt_tokens, completion_tokens";
constexpr const char* kStepColumns =
    "run_id, step, iteration, state, input, output, error, attempts, started_unix_ms, finished_unix_ms, "
    "prompt_tokens, completion_tokens";

RunRecord read_run(const Statement& s) {
  RunRecord r;
  r.id = s.text(0);
  r.workflow_name = s.text(1);
  r.workflow_file = s.text(2);
  r.workflow_yaml = s.text(3);
  r.inputs = s.json(4);
  r.state = s.text(5);
  r.outputs = s.json(6);
  r.error = s.text(7);
  r.replay_of = s.text(8);
  r.created_unix_ms = s.real(9);
  r.updated_unix_ms = s.real(10);
  r.prompt_tokens = s.integer(11);
  r.completion_tokens = s.integer(12);
  return r;
}

StepRecord read_step(const Statement& s) {
  StepRecord r;
  r.run_id = s.text(0);
  r.step = s.text(1);
  r.iteration = static_cast<int>(s.integer(2));
  r.state = s.text(3);
  r.input = s.json(4);
  r.output = s.json(5);
  r.error = s.text(6);
  r.attempts = static_cast<int>(s.integer(7));
  r.started_unix_ms = s.real(8);
  r.finished_unix_ms = s.real(9);
  r.prompt_tokens = s.integer(10);
  r.completion_tokens = s.integer(11);
  return r;
}

EffectRecord read_effect(const Statement& s) {
  EffectRecord r;
  r.key = s.text(0);
  r.kind = s.text(1);
  r.request = s.json(2);
  r.result = s.json(3);
  r.elapsed_ms = s.real(4);
  return r;
}

}  // namespace

struct RunStore::Impl {
  std::string path;
  sqlite3* db = nullptr;
  mutable std::mutex mutex;
  mutable std::unordered_map<std::string, sqlite3_stmt*> statements;

  ~Impl() {
    for (auto& [sql, stmt] : statements) sqlite3_finalize(stmt);
    if (db) sqlite3_close(db);
  }

  // Runs SQL without results (pragmas, DDL, transactions).
  void exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db);
      sqlite3_free(message);
      throw std::runtime_error(path + ": SQLite error: " + text);
    }
  }

  // A cached prepared statement; call with the mutex held.
  Statement prepare(const std::string& sql) const {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
        throw std::runtime_error(path + ": SQLite cannot prepare '" + sql + "': " + sqlite3_errmsg(db));
      it = statements.emplace(sql, stmt).first;
    }
    return Statement(db, it->second, path);
  }

  int pragma_int(const char* name) const {
    Statement s = prepare(std::string("PRAGMA ") + name);
    return s.step() ? static_cast<int>(s.integer(0)) : 0;
  }

  // Creates the schema in a fresh file, or checks that an existing file is a run store of this version.
  void open_schema() {
    int version = 0, application = 0;
    try {
      version = pragma_int("user_version");
      application = pragma_int("application_id");
    } catch (const std::runtime_error&) {
      if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB)
        throw std::runtime_error(not_a_store(path, sqlite3_errmsg(db)));
      throw;
    }
    if (version == 0 || application == 0) {
      // Another process may be creating the schema at this moment: decide again under the write lock, where
      // both pragmas are read from one snapshot.
      exec("BEGIN IMMEDIATE");
      try {
        version = pragma_int("user_version");
        application = pragma_int("application_id");
        if (version == 0 && application == 0) {
          Statement tables = prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
          std::string names;
          while (tables.step()) {
            if (!names.empty()) names.append(", ");
            names.append(tables.text(0));
          }
          if (!names.empty())
            throw std::runtime_error(not_a_store(path, "it holds another program's tables: " + names));
          exec(kSchema);
          exec("PRAGMA application_id = " + std::to_string(kApplicationId));
          exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
          version = kSchemaVersion;
          application = kApplicationId;
        }
        exec("COMMIT");
      } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    }
    if (application != kApplicationId)
      throw std::runtime_error(
          not_a_store(path, "application id " + std::to_string(application) + " is not Chorus's"));
    if (version != kSchemaVersion)
      throw std::runtime_error(not_a_store(path, "schema version " + std::to_string(version) +
                                                     ", this chorus reads version " +
                                                     std::to_string(kSchemaVersion)));
  }

  // Switches the file to WAL (persistent, so once per file). The switch needs the file to itself and the busy
  // handler does not cover it, so while other connections open a fresh file at the same moment it is retried.
  void use_wal() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
    while (true) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
      const bool wal = rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) &&
                       std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal";
      sqlite3_finalize(stmt);
      if (wal) return;
      const bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(path + ": cannot switch the run store to WAL mode (" +
                                 (rc == SQLITE_ROW ? std::string("unsupported here") : sqlite3_errmsg(db)) +
                                 "); put the store on a local file system");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::optional<RunRecord> find_run(const std::string& id) const {
    Statement s = prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_run(s);
  }

  std::optional<EffectRecord> find_effect(const std::string& run_id, const std::string& key) const {
    Statement s =
        prepare("SELECT key, kind, request, result, elapsed_ms FROM effects WHERE run_id = ?1 AND key = ?2");
    s.bind(1, run_id).bind(2, key);
    if (!s.step()) return std::nullopt;
    return read_effect(s);
  }

  void record_effect(const std::string& run_id, const EffectRecord& effect) const {
    Statement s = prepare(
        "INSERT OR IGNORE INTO effects (run_id, key, kind, request, result, elapsed_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bind(1, run_id).bind(2, effect.key).bind(3, effect.kind).bind(4, dump_json(effect.request));
    s.bind(5, dump_json(effect.result)).bind(6, effect.elapsed_ms);
    s.step();
  }
};

RunStore::RunStore(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  int rc = sqlite3_open_v2(path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = impl_->db ? sqlite3_errmsg(impl_->db) : sqlite3_errstr(rc);
    throw std::runtime_error(
        path + ": cannot open the run store (" + why +
        "); check that the folder exists and is writable, or choose another --store file");
  }
  sqlite3_busy_timeout(impl_->db, kBusyTimeoutMs);
  std::lock_guard lock(impl_->mutex);
  impl_->open_schema();
  impl_->use_wal();
  // FULL: a committed checkpoint or journal record survives power loss too, not only a killed process.
  impl_->exec("PRAGMA synchronous = FULL");
}

RunStore::~RunStore() = default;

const std::string& RunStore::path() const {
  return impl_->path;
}

void RunStore::create_run(const RunRecord& run) {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(std::string("INSERT INTO runs (") + kRunColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  const double now = now_unix_ms();
  s.bind(1, run.id).bind(2, run.workflow_name).bind(3, run.workflow_file).bind(4, run.workflow_yaml);
  s.bind(5, dump_json(run.inputs)).bind(6, run.state).bind(7, dump_json(run.outputs)).bind(8, run.error);
  s.bind(9, run.replay_of).bind(10, run.created_unix_ms ? run.created_unix_ms : now);
  s.bind(11, run.updated_unix_ms ? run.updated_unix_ms : now).bind(12, run.prompt_tokens);
  s.bind(13, run.completion_tokens);
  bool duplicate = false;
  s.step(&duplicate);
  if (duplicate) throw std::runtime_error("run '" + run.id + "' already exists in " + impl_->path);
}

void RunStore::update_run(const RunRecord& run) {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(
      "UPDATE runs SET state = ?2, outputs = ?3, error = ?4, prompt_tokens = ?5, completion_tokens = ?6, "
      "updated_unix_ms = ?7 WHERE id = ?1");
  s.bind(1, run.id).bind(2, run.state).bind(3, dump_json(run.outputs)).bind(4, run.error);
  s.bind(5, run.prompt_tokens).bind(6, run.completion_tokens);
  s.bind(7, run.updated_unix_ms ? run.updated_unix_ms : now_unix_ms());
  s.step();
  if (sqlite3_changes(impl_->db) == 0)
    throw std::runtime_error("cannot update run '" + run.id + "': it is not in " + impl_->path);
}

std::optional<RunRecord> RunStore::find_run(const std::string& id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->find_run(id);
}

RunRecord RunStore::resolve_run(const std::string& id_or_prefix) const {
  std::lock_guard lock(impl_->mutex);
  const std::string& path = impl_->path;
  auto absent = [&] {
    return std::runtime_error("no run '" + id_or_prefix + "' in " + path + "; `chorus runs list --store " +
                              path + "` shows the runs");
  };
  if (id_or_prefix.empty()) throw absent();
  if (auto exact = impl_->find_run(id_or_prefix)) return *exact;
  Statement s = impl_->prepare(
      "SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY created_unix_ms, id LIMIT 6");
  s.bind(1, id_or_prefix);
  std::vector<std::string> matches;
  while (s.step()) matches.push_back(s.text(0));
  if (matches.empty()) throw absent();
  if (matches.size() > 1) {
    std::string list;
    for (size_t i = 0; i < matches.size() && i < 5; ++i) {
      if (i) list += ", ";
      list += matches[i];
    }
    if (matches.size() > 5) list += ", ...";
    throw std::runtime_error("run prefix '" + id_or_prefix + "' is ambiguous: matches " + list);
  }
  return *impl_->find_run(matches.front());
}

std::vector<RunRecord> RunStore::list_runs(int limit) const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(std::string("SELECT ") + kRunColumns +
                               " FROM runs ORDER BY created_unix_ms DESC, rowid DESC "
                               "LIMIT ?1");
  s.bind(1, limit > 0 ? limit : -1);
  std::vector<RunRecord> runs;
  while (s.step()) runs.push_back(read_run(s));
  return runs;
}

void RunStore::save_step(const StepRecord& step) {
  std::lock_guard lock(impl_->mutex);
  // An upsert (not INSERT OR REPLACE) keeps the row id, so list_steps keeps first-save order among equal
  // times.
  Statement s = impl_->prepare(std::string("INSERT INTO steps (") + kStepColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
                               "ON CONFLICT (run_id, step, iteration) DO UPDATE SET state = excluded.state, "
                               "input = excluded.input, output = excluded.output, error = excluded.error, "
                               "attempts = excluded.attempts, started_unix_ms = excluded.started_unix_ms, "
                               "finished_unix_ms = excluded.finished_unix_ms, prompt_tokens = "
                               "excluded.prompt_tokens, completion_tokens = excluded.completion_tokens");
  s.bind(1, step.run_id).bind(2, step.step).bind(3, step.iteration).bind(4, step.state);
  s.bind(5, dump_json(step.input)).bind(6, dump_json(step.output)).bind(7, step.error).bind(8, step.attempts);
  s.bind(9, step.started_unix_ms).bind(10, step.finished_unix_ms).bind(11, step.prompt_tokens);
  s.bind(12, step.completion_tokens);
  s.step();
}

std::optional<StepRecord> RunStore::find_step(const std::string& run_id, const std::string& step,
                                              int iteration) const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(std::string("SELECT ") + kStepColumns +
                               " FROM steps WHERE run_id = ?1 AND step = ?2 AND iteration = ?3");
  s.bind(1, run_id).bind(2, step).bind(3, iteration);
  if (!s.step()) return std::nullopt;
  return read_step(s);
}

std::vector<StepRecord> RunStore::list_steps(const std::string& run_id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(std::string("SELECT ") + kStepColumns +
                               " FROM steps WHERE run_id = ?1 ORDER BY started_unix_ms, rowid");
  s.bind(1, run_id);
  std::vector<StepRecord> steps;
  while (s.step()) steps.push_back(read_step(s));
  return steps;
}

std::optional<EffectRecord> RunStore::find_effect(const std::string& run_id, const std::string& key) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->find_effect(run_id, key);
}

void RunStore::record_effect(const std::string& run_id, const EffectRecord& effect) {
  std::lock_guard lock(impl_->mutex);
  impl_->record_effect(run_id, effect);
}

std::vector<EffectRecord> RunStore::list_effects(const std::string& run_id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare(
      "SELECT key, kind, request, result, elapsed_ms FROM effects WHERE run_id = ?1 ORDER BY rowid");
  s.bind(1, run_id);
  std::vector<EffectRecord> effects;
  while (s.step()) effects.push_back(read_effect(s));
  return effects;
}

namespace {

// The journal of one run in a store. Replay: lookups read the recorded run's effects, and each effect read is
// also recorded under the new run (INSERT OR IGNORE), so the replay's own journal and trace are complete and
// a resumed replay finds them too; a key the recording lacks is a miss, which run_once turns into "replay
// diverged".
class StoreJournal : public EffectJournal {
 public:
  StoreJournal(RunStore& store, std::string run_id, std::string replay_source)
      : store_(store), run_id_(std::move(run_id)), replay_source_(std::move(replay_source)) {}

  std::optional<nlohmann::json> lookup(const std::string& key) override {
    if (replay_source_.empty()) {
      auto own = store_.find_effect(run_id_, key);
      return own ? std::optional(own->result) : std::nullopt;
    }
    auto recorded = store_.find_effect(replay_source_, key);
    if (!recorded) return std::nullopt;
    store_.record_effect(run_id_, *recorded);
    return recorded->result;
  }

  void record(const EffectRecord& record) override { store_.record_effect(run_id_, record); }

  bool replaying() const override { return !replay_source_.empty(); }

 private:
  RunStore& store_;
  std::string run_id_;
  std::string replay_source_;
};

}  // namespace

std::shared_ptr<EffectJournal> RunStore::journal(const std::string& run_id,
                                                 const std::string& replay_source) {
  return std::make_shared<StoreJournal>(*this, run_id, replay_source);
}

void RunStore::append_event(const RunEvent& event) {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare("INSERT INTO events (run_id, type, event) VALUES (?1, ?2, ?3)");
  s.bind(1, event.run_id).bind(2, event.type).bind(3, dump_json(event.to_json()));
  s.step();
}

std::vector<RunEvent> RunStore::list_events(const std::string& run_id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->prepare("SELECT event FROM events WHERE run_id = ?1 ORDER BY seq");
  s.bind(1, run_id);
  std::vector<RunEvent> events;
  while (s.step()) events.push_back(RunEvent::from_json(s.json(0)));
  return events;
}

}  // namespace chorus::runtime
