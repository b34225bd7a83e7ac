// chorus run WORKFLOW.yaml, chorus runs resume RUN, chorus runs replay RUN: execute workflows in this process
// (a LocalRuntime hosting every agent of the workflow) or on a `chorus serve` host (--connect).
#include "cli/command-registry.h"
#include "cli/workflow-kinds.h"
#include "cli/runs-command.h"
#include "runtime/agent-error.h"
#include "runtime/agent-kinds.h"
#include "runtime/host-client.h"
#include "runtime/local-runtime.h"
#include "runtime/progress-display.h"
#include "runtime/run-store.h"
#include "runtime/workflow-engine.h"
#include "runtime/workflow-spec.h"
#include "tools/builtin-tools.h"


#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>

namespace chorus::cli {
namespace {

using runtime::RunEvent;
using runtime::RunEventSink;
using runtime::RunRecord;

// Exit statuses (README): 0 done, 1 failed, 2 bad usage or workflow, 3 waiting for human input.
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitWaiting = 3;

// Options shared by run, runs resume and runs replay.
struct ExecutionOptions {
  std::vector<std::string> inputs;  // k=v
  std::string store;
  std::string connect;
  std::string token_file;
  std::string tls_ca;
  std::string trace;
  bool quiet = false;
};

void add_execution_options(CLI::App& app, ExecutionOptions& options, bool with_inputs, const std::string& inputs_help) {
  if (with_inputs)
    app.add_option("--input", options.inputs, inputs_help)->allow_extra_args(false)->type_name("KEY=VALUE");
  add_store_option(app, options.store);
  app.add_option("--connect", options.connect,
                 "Run on a `chorus serve` host at ADDR (host:port or unix:PATH) instead of in this process")
      ->type_name("ADDR");
  app.add_option("--token-file", options.token_file, "With --connect: file holding the host's token (else $CHORUS_TOKEN)")
      ->type_name("FILE");
  app.add_option("--tls-ca", options.tls_ca, "With --connect: PEM file of the CA that signed the host's certificate")
      ->type_name("FILE");
  app.add_option("--trace", options.trace, "Also write every event as one JSON object per line to FILE")
      ->type_name("FILE.jsonl");
  app.add_flag("--quiet,-q", options.quiet, "No progress on stderr (outputs and errors are still printed)");
}

// {"k": "v"} from ["k=v", ...]; a malformed entry ends the command (exit 2).
std::map<std::string, std::string> parse_key_values(const std::string& command, const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "chorus " << command << ": --input '" << item << "' is not KEY=VALUE; write e.g. --input topic=bees\n";
      exit_with(kExitUsage);
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::string read_text_file(const std::string& command, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "chorus " << command << ": cannot read '" << path << "' (no such file or not readable)\n";
    exit_with(kExitUsage);
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}


void print_workflow_error(const std::string& command, const runtime::WorkflowError& e) {
  std::cerr << "chorus " << command << ": the workflow has " << e.problems().size()
            << (e.problems().size() == 1 ? " problem" : " problems") << ":\n";
  for (const auto& problem : e.problems()) std::cerr << "  " << problem << "\n";
}

// Progress on stderr and the optional JSONL trace, as one sink.
class EventOutputs {
 public:
  EventOutputs(const std::string& command, const ExecutionOptions& options) {
    if (!options.quiet) display_.emplace(std::cerr, runtime::stderr_is_terminal());
    if (!options.trace.empty()) {
      trace_.open(options.trace, std::ios::binary | std::ios::trunc);
      if (!trace_) {
        std::cerr << "chorus " << command << ": cannot write the trace file '" << options.trace << "'\n";
        exit_with(kExitUsage);
      }
    }
  }
  RunEventSink sink() {
    return [this](const RunEvent& event) {
      if (display_) display_->on_event(event);
      if (trace_.is_open()) trace_ << event.to_json().dump() << "\n" << std::flush;
    };
  }
  void finish() {
    if (display_) display_->finish();
  }

 private:
  std::optional<runtime::ProgressDisplay> display_;
  std::ofstream trace_;
};

// Prints what a run ended with and exits: outputs JSON on stdout (0), or the wait (3) / the error (1) on stderr.
[[noreturn]] void report(const std::string& command, const RunRecord& run) {
  if (run.state == "done") {
    std::cout << run.outputs.dump(2) << "\n" << std::flush;
    exit_with(0);
  }
  if (run.state == "waiting") {
    std::cerr << "chorus " << command << ": run " << run.id << " is " << run.error << "\n";
    exit_with(kExitWaiting);
  }
  std::cerr << "chorus " << command << ": run " << run.id << " " << run.state << ": " << run.error << "\n";
  exit_with(kExitFailed);
}

runtime::HostConnection connection_from(const ExecutionOptions& options) {
  if (!options.store.empty())
    throw std::invalid_argument("--store and --connect do not go together: a run on a host is stored in the host's "
                                "store (`chorus serve --store FILE`); drop --store");
  runtime::HostConnection connection;
  connection.address = options.connect;
  connection.token = runtime::resolve_token(options.token_file);
  connection.tls_ca_file = options.tls_ca;
  return connection;
}

// Runs `body` turning errors into a message and an exit status (bad workflow 2, anything else 1).
template <typename Body>
void reporting_errors(const std::string& command, Body body) {
  try {
    body();
  } catch (const CLI::Error&) {
    throw;
  } catch (const runtime::WorkflowError& e) {
    print_workflow_error(command, e);
    exit_with(kExitUsage);
  } catch (const std::invalid_argument& e) {
    std::cerr << "chorus " << command << ": " << e.what() << "\n";
    exit_with(kExitUsage);
  } catch (const runtime::AgentError& e) {
    std::cerr << "chorus " << command << ": " << runtime::to_string(e.code()) << ": " << e.what() << "\n";
    exit_with(kExitFailed);
  } catch (const std::exception& e) {
    std::cerr << "chorus " << command << ": " << e.what() << "\n";
    exit_with(kExitFailed);
  }
}

void run_workflow(const std::string& workflow_path, const ExecutionOptions& options) {
  const std::string command = "run";
  reporting_errors(command, [&] {
    const std::string yaml_text = read_text_file(command, workflow_path);
    auto kinds = make_workflow_kinds(workflow_path);
    runtime::WorkflowSpec spec = runtime::WorkflowSpec::parse(yaml_text, workflow_path, kinds.get());
    for (const auto& warning : spec.warnings) std::cerr << warning << "\n";
    nlohmann::json inputs = spec.resolve_inputs(parse_key_values(command, options.inputs));

    EventOutputs outputs(command, options);
    RunRecord run;
    if (!options.connect.empty()) {
      runtime::HostClient client(connection_from(options));
      run = client.start_run(yaml_text, workflow_path, inputs, outputs.sink());
    } else {
      runtime::RunStore store(store_path(options.store));
      auto local = make_local_runtime(spec, *kinds);
      runtime::WorkflowEngine engine(*local, store);
      run = engine.start(spec, yaml_text, inputs, outputs.sink());
    }
    outputs.finish();
    report(command, run);
  });
}

// runs resume / runs replay in this process: the agents come from the run's stored workflow.
template <typename Call>
RunRecord run_stored(const std::string& command, const std::string& run_id, const ExecutionOptions& options,
                     EventOutputs& outputs, Call call) {
  const std::string path = store_path(options.store);
  if (!std::filesystem::exists(path)) {
    std::cerr << "chorus " << command << ": no run store at '" << path
              << "'; pass --store FILE or set CHORUS_STORE to the store the run used\n";
    exit_with(kExitUsage);
  }
  runtime::RunStore store(path);
  RunRecord stored = store.resolve_run(run_id);
  auto kinds = make_workflow_kinds(stored.workflow_file);
  runtime::WorkflowSpec spec = runtime::WorkflowSpec::parse(stored.workflow_yaml, stored.workflow_file, kinds.get());
  auto local = make_local_runtime(spec, *kinds);
  runtime::WorkflowEngine engine(*local, store);
  return call(engine, stored.id, outputs.sink());
}

void resume_run(const std::string& run_id, const ExecutionOptions& options) {
  const std::string command = "runs resume";
  reporting_errors(command, [&] {
    auto answers = parse_key_values(command, options.inputs);
    EventOutputs outputs(command, options);
    RunRecord run;
    if (!options.connect.empty()) {
      runtime::HostClient client(connection_from(options));
      run = client.resume_run(run_id, answers, outputs.sink());
    } else {
      run = run_stored(command, run_id, options, outputs,
                       [&](runtime::WorkflowEngine& engine, const std::string& id, const RunEventSink& sink) {
                         return engine.resume(id, answers, sink);
                       });
    }
    outputs.finish();
    report(command, run);
  });
}

void replay_run(const std::string& run_id, const ExecutionOptions& options) {
  const std::string command = "runs replay";
  reporting_errors(command, [&] {
    EventOutputs outputs(command, options);
    RunRecord run;
    if (!options.connect.empty()) {
      runtime::HostClient client(connection_from(options));
      run = client.replay_run(run_id, outputs.sink());
    } else {
      run = run_stored(command, run_id, options, outputs,
                       [](runtime::WorkflowEngine& engine, const std::string& id, const RunEventSink& sink) {
                         return engine.replay(id, sink);
                       });
    }
    outputs.finish();
    report(command, run);
  });
}

void install_run_command(CLI::App& root) {
  auto* run = root.add_subcommand(
      "run", "Run a workflow YAML file: progress on stderr, the outputs as JSON on stdout "
             "(exit 0 done, 1 failed, 2 invalid workflow or inputs, 3 waiting for human input)");
  static std::string workflow_path;
  static ExecutionOptions run_options;
  run->add_option("workflow", workflow_path, "The workflow file (docs/workflow-yaml.md)")->required()->type_name("FILE");
  add_execution_options(*run, run_options, true, "A workflow input (repeat for several)");
  run->callback([] { run_workflow(workflow_path, run_options); });
}

void install_runs_resume_replay(CLI::App& root) {
  CLI::App& runs = runs_app(root);

  auto* resume = runs.add_subcommand(
      "resume", "Continue a failed, interrupted or waiting run from its checkpoints (finished steps and recorded "
                "tool/LLM calls are not repeated)");
  static std::string resume_id;
  static ExecutionOptions resume_options;
  resume->add_option("run", resume_id, "Run id (or a unique prefix)")->required()->type_name("RUN");
  add_execution_options(*resume, resume_options, true, "Answer a human_input step (repeat for several)");
  resume->callback([] { resume_run(resume_id, resume_options); });

  auto* replay = runs.add_subcommand(
      "replay", "Re-execute a done run as a new run whose LLM answers and tool results come from its recording; "
                "fails if the outputs differ");
  static std::string replay_id;
  static ExecutionOptions replay_options;
  replay->add_option("run", replay_id, "Run id (or a unique prefix)")->required()->type_name("RUN");
  add_execution_options(*replay, replay_options, false, "");
  replay->callback([] { replay_run(replay_id, replay_options); });
}

}  // namespace

CHORUS_CLI_COMMAND(run, 55, install_run_command);
CHORUS_CLI_COMMAND(runs_resume_replay, 61, install_runs_resume_replay);

}  // namespace chorus::cli
