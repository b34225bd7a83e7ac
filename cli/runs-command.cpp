// chorus runs list|show|trace: read the durable run store (--store FILE, $CHORUS_STORE, or ./runs.db).
// Other files add `runs resume` / `runs replay` to the same subcommand through runs_app()
// (cli/runs-command.h).
#include "cli/runs-command.h"

#include "cli/command-registry.h"
#include "runtime/event-summary.h"
#include "runtime/run-record-json.h"
#include "runtime/run-store.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace chorus::cli {

std::string store_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("CHORUS_STORE"); env && *env) return env;
  return "runs.db";
}

CLI::Option* add_store_option(CLI::App& app, std::string& store) {
  return app.add_option("--store", store, "Run store file (default: $CHORUS_STORE, else runs.db here)");
}

CLI::App& runs_app(CLI::App& root) {
  auto found = root.get_subcommands([](CLI::App* app) { return app->get_name() == "runs"; });
  if (found.empty())
    throw std::logic_error("the `runs` command is not installed yet (install after order 60)");
  return *found.front();
}

namespace {

using runtime::EffectRecord;
using runtime::RunRecord;
using runtime::RunStore;
using runtime::StepRecord;

// Opens an existing store for reading; a missing file is an error (a read never creates an empty store).
std::unique_ptr<RunStore> open_existing(const std::string& command, const std::string& flag) {
  const std::string path = store_path(flag);
  if (!std::filesystem::exists(path)) {
    std::cerr
        << "chorus runs " << command << ": no run store at '" << path
        << "' (the file does not exist); pass --store FILE or set CHORUS_STORE to the store a run used\n";
    exit_with(2);
  }
  return std::make_unique<RunStore>(path);
}

// Runs `body`, turning store errors (not a store, no such run, SQLite failures) into a message and exit 1.
template <typename Body>
void reporting_errors(const std::string& command, Body body) {
  try {
    body();
  } catch (const CLI::Error&) {
    throw;
  } catch (const std::exception& e) {
    std::cerr << "chorus runs " << command << ": " << e.what() << "\n";
    exit_with(1);
  }
}

std::string local_time(double unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

std::string duration_text(double ms) {
  char text[32];
  if (ms < 1000)
    std::snprintf(text, sizeof text, "%.0f ms", ms);
  else
    std::snprintf(text, sizeof text, "%.1f s", ms / 1000);
  return text;
}

std::string step_elapsed(const StepRecord& step) {
  if (step.started_unix_ms <= 0 || step.finished_unix_ms < step.started_unix_ms) return "-";
  return duration_text(step.finished_unix_ms - step.started_unix_ms);
}

// Whether an effect key belongs to a step execution: the workflow engine scopes a step's effects as
// "<step>#<iteration>/<kind>#<n>".
bool effect_of_step(const std::string& key, const StepRecord& step) {
  return key.rfind(step.step + "#" + std::to_string(step.iteration) + "/", 0) == 0;
}

int effect_count(const std::vector<EffectRecord>& effects, const StepRecord& step) {
  int count = 0;
  for (const auto& effect : effects) count += effect_of_step(effect.key, step) ? 1 : 0;
  return count;
}

nlohmann::json step_json(const StepRecord& step, int effects) {
  return {{"step", step.step},
          {"iteration", step.iteration},
          {"state", step.state},
          {"input", step.input},
          {"output", step.output},
          {"error", step.error},
          {"attempts", step.attempts},
          {"started_unix_ms", step.started_unix_ms},
          {"finished_unix_ms", step.finished_unix_ms},
          {"prompt_tokens", step.prompt_tokens},
          {"completion_tokens", step.completion_tokens},
          {"effects", effects}};
}

nlohmann::json effect_json(const EffectRecord& effect) {
  return {{"key", effect.key},
          {"kind", effect.kind},
          {"request", effect.request},
          {"result", effect.result},
          {"elapsed_ms", effect.elapsed_ms}};
}

// Prints rows as left-aligned columns two spaces apart (the last column unpadded).
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

void list_runs(const std::string& store_flag, int limit, bool as_json) {
  auto store = open_existing("list", store_flag);
  const auto runs = store->list_runs(limit);
  if (as_json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& run : runs) out.push_back(runtime::run_record_to_json(run));
    std::cout << out.dump(2) << "\n";
    return;
  }
  if (runs.empty()) {
    std::cout << "no runs in " << store->path() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "WORKFLOW", "STATE", "CREATED", "TOKENS"}};
  for (const auto& run : runs)
    rows.push_back({run.id.substr(0, 8), run.workflow_name, run.state, local_time(run.created_unix_ms),
                    std::to_string(run.prompt_tokens + run.completion_tokens)});
  print_table(rows);
}

// A journaled tool call's result in one line: the tool's `text` (or its result JSON), or the error.
std::string tool_result_summary(const nlohmann::json& result) {
  std::string text;
  if (result.value("status", "") == "ok" && result.contains("result")) {
    const auto& r = result["result"];
    text = r.is_object() && r.contains("text") && r["text"].is_string() ? r["text"].get<std::string>() : r.dump();
  } else {
    text = "error: " + (result.contains("error") ? (result["error"].is_string() ? result["error"].get<std::string>()
                                                                                  : result["error"].dump())
                                                 : result.dump());
  }
  return runtime::one_line(text, 72);
}

// Prints the run's tool calls (kind "tool" effects): where, which tool, its time, its arguments and its result.
void print_tool_calls(const std::vector<EffectRecord>& effects) {
  std::vector<std::vector<std::string>> rows = {{"TOOL CALL", "TOOL", "ELAPSED", "ARGUMENTS", "RESULT"}};
  for (const auto& effect : effects) {
    if (effect.kind != "tool") continue;
    const auto& request = effect.request;
    const std::string name = request.is_object() ? request.value("name", "?") : "?";
    const std::string arguments = request.is_object() && request.contains("arguments_text") &&
                                          request["arguments_text"].is_string()
                                      ? runtime::one_line(request["arguments_text"].get<std::string>(), 72)
                                      : runtime::one_line(request.dump(), 72);
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1f ms", effect.elapsed_ms);
    rows.push_back({effect.key, name, elapsed, arguments, tool_result_summary(effect.result)});
  }
  if (rows.size() == 1) return;
  std::cout << "\n";
  print_table(rows);
}

void show_run(const std::string& store_flag, const std::string& id, bool as_json) {
  auto store = open_existing("show", store_flag);
  const RunRecord run = store->resolve_run(id);
  const auto steps = store->list_steps(run.id);
  const auto effects = store->list_effects(run.id);
  if (as_json) {
    nlohmann::json out = runtime::run_record_to_json(run);
    out["steps"] = nlohmann::json::array();
    for (const auto& step : steps) out["steps"].push_back(step_json(step, effect_count(effects, step)));
    out["effects"] = nlohmann::json::array();
    for (const auto& effect : effects) out["effects"].push_back(effect_json(effect));
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> header = {
      {"run", run.id},
      {"workflow", run.workflow_name + (run.workflow_file.empty() ? "" : " (" + run.workflow_file + ")")},
      {"state", run.state}};
  if (!run.error.empty()) header.push_back({"error", run.error});
  if (!run.replay_of.empty()) header.push_back({"replay of", run.replay_of});
  header.push_back({"created", local_time(run.created_unix_ms)});
  header.push_back({"updated", local_time(run.updated_unix_ms)});
  header.push_back({"tokens", std::to_string(run.prompt_tokens + run.completion_tokens) + " (prompt " +
                                  std::to_string(run.prompt_tokens) + ", completion " +
                                  std::to_string(run.completion_tokens) + ")"});
  header.push_back({"effects", std::to_string(effects.size()) + " recorded"});
  header.push_back({"inputs", run.inputs.dump()});
  header.push_back({"outputs", run.outputs.dump()});
  print_table(header);
  std::cout << "\n";
  if (steps.empty()) {
    std::cout << "no steps recorded\n";
    return;
  }
  std::vector<std::vector<std::string>> rows = {
      {"STEP", "ITER", "STATE", "ATTEMPTS", "ELAPSED", "TOKENS", "EFFECTS"}};
  for (const auto& step : steps)
    rows.push_back({step.step, std::to_string(step.iteration), step.state, std::to_string(step.attempts),
                    step_elapsed(step), std::to_string(step.prompt_tokens + step.completion_tokens),
                    std::to_string(effect_count(effects, step))});
  print_table(rows);
  print_tool_calls(effects);
  for (const auto& step : steps)
    if (!step.error.empty())
      std::cout << "error in " << step.step << " (iteration " << step.iteration << "): " << step.error
                << "\n";
}

void trace_run(const std::string& store_flag, const std::string& id) {
  auto store = open_existing("trace", store_flag);
  const RunRecord run = store->resolve_run(id);
  for (const auto& event : store->list_events(run.id)) std::cout << event.to_json().dump() << "\n";
}

void install_runs_command(CLI::App& root) {
  auto* runs = root.add_subcommand("runs", "Durable workflow runs: list, show, trace, resume, replay");
  runs->require_subcommand(1);

  auto* list =
      runs->add_subcommand("list", "List the runs, newest first (id, workflow, state, created, tokens)");
  static std::string list_store;
  static int list_limit = 50;
  static bool list_json = false;
  add_store_option(*list, list_store);
  list->add_option("--limit", list_limit, "How many runs to list (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  list->add_flag("--json", list_json, "Print the full run records as a JSON array");
  list->callback([] { reporting_errors("list", [] { list_runs(list_store, list_limit, list_json); }); });

  auto* show =
      runs->add_subcommand("show", "Show a run: inputs, outputs, each step's state, time and tokens, and its tool calls with their results");
  static std::string show_store, show_id;
  static bool show_json = false;
  show->add_option("run", show_id, "Run id or a unique prefix of it")->required();
  add_store_option(*show, show_store);
  show->add_flag("--json", show_json, "Print the run, its steps and its effects as JSON");
  show->callback([] { reporting_errors("show", [] { show_run(show_store, show_id, show_json); }); });

  auto* trace = runs->add_subcommand("trace", "Print a run's events as JSONL (one event object per line)");
  static std::string trace_store, trace_id;
  trace->add_option("run", trace_id, "Run id or a unique prefix of it")->required();
  add_store_option(*trace, trace_store);
  trace->callback([] { reporting_errors("trace", [] { trace_run(trace_store, trace_id); }); });
}

}  // namespace

CHORUS_CLI_COMMAND(runs, 60, install_runs_command);

}  // namespace chorus::cli
