// chorus worker: hosts agents (a workflow's, or built-in kinds) and serves them to a `chorus serve` host.
#include "cli/command-registry.h"
#include "cli/workflow-kinds.h"
#include "cli/stop-signals.h"
#include "runtime/agent-kinds.h"
#include "runtime/local-runtime.h"
#include "runtime/sleep-agent.h"
#include "runtime/worker-link.h"
#include "runtime/workflow-spec.h"


#include <filesystem>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

namespace chorus::cli {
namespace {

struct WorkerArgs {
  std::string connect;
  std::string workflow;
  std::string agents;
  std::string name;
  std::string token_file;
  std::string tls_ca;
  int threads = 4;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

[[noreturn]] void fail(const std::string& message, int status = 2) {
  std::cerr << "chorus worker: " << message << "\n";
  exit_with(status);
}

// Registers the agents the worker hosts: the workflow's (all or the listed ones) or built-in kinds by name.
void register_agents(const WorkerArgs& args, const std::string& worker_name, runtime::LocalRuntime& rt) {
  std::shared_ptr<runtime::AgentKindRegistry> registry;
  if (args.workflow.empty()) {
    registry = std::make_shared<runtime::AgentKindRegistry>();
    runtime::add_builtin_kinds(*registry);
  } else {
    registry = make_workflow_kinds(args.workflow);
  }
  runtime::add_sleep_kind(*registry, worker_name);
  auto wanted = split_list(args.agents);
  if (args.workflow.empty()) {
    if (wanted.empty()) fail("pass --workflow FILE (its agents) or --agents KIND,... (built-in kinds: echo, sleep)");
    for (const auto& name : wanted) {
      const auto* kind = registry->find(name);
      if (!kind) fail("unknown agent kind '" + name + "' in --agents; built-in kinds: echo, sleep");
      rt.register_factory(name, [registry, kind](const runtime::AgentId& id) { return kind->factory({}, id); });
    }
    return;
  }
  runtime::WorkflowSpec spec;
  try {
    spec = runtime::WorkflowSpec::load(args.workflow, registry.get());
  } catch (const runtime::WorkflowError& e) {
    std::string text;
    for (const auto& p : e.problems()) text += "\n  " + p;
    fail("cannot use workflow '" + args.workflow + "':" + text);
  }
  std::set<std::string> selected(wanted.begin(), wanted.end());
  for (const auto& name : selected)
    if (!spec.agents.count(name)) {
      std::string known;
      for (const auto& a : spec.agent_order) known += (known.empty() ? "" : ", ") + a;
      fail("--agents names '" + name + "', which is not an agent of " + args.workflow + " (its agents: " + known +
           ")");
    }
  for (const auto& name : spec.agent_order) {
    if (!selected.empty() && !selected.count(name)) continue;
    const auto& agent = spec.agents.at(name);
    const auto* kind = registry->find(agent.kind);
    if (!kind) fail(agent.pos.str() + ": agent kind '" + agent.kind + "' is not available in this worker");
    nlohmann::json settings = agent.to_json();
    rt.register_factory(name, [registry, kind, settings](const runtime::AgentId& id) {
      return kind->factory(settings, id);
    });
  }
}

void run_worker(const WorkerArgs& args) {
  block_stop_signals();
  runtime::WorkerLinkOptions options;
  options.connection.address = args.connect;
  options.connection.tls_ca_file = args.tls_ca;
  options.name = args.name;
  try {
    options.connection.token = runtime::resolve_token(args.token_file);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  static std::mutex log_mutex;
  options.log = [](const std::string& line) {
    std::lock_guard lock(log_mutex);
    std::cerr << "chorus worker: " << line << std::endl;
  };
  runtime::LocalRuntime rt(runtime::LocalRuntimeOptions{std::max(1, args.threads)});
  runtime::WorkerLink link(rt, options);
  register_agents(args, link.name(), rt);
  link.start();
  int status = 0;
  for (;;) {
    if (wait_stop_signal(std::chrono::milliseconds(200)) != 0) break;
    if (link.wait_stopped(std::chrono::milliseconds(0))) {
      if (auto error = link.fatal_error()) {
        std::cerr << "chorus worker: " << error->what() << "\n";
        status = 1;
      }
      break;
    }
  }
  link.stop();
  if (status != 0) exit_with(status);
}

void install_worker_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("worker", "Host agents for a `chorus serve` host (reconnects when it restarts)");
  static WorkerArgs args;
  cmd->add_option("--connect", args.connect, "Host address (HOST:PORT)")->required();
  cmd->add_option("--workflow", args.workflow, "Workflow file whose agents this worker hosts");
  cmd->add_option("--agents", args.agents,
                  "Comma-separated: with --workflow, the subset of its agents to host; alone, built-in kinds "
                  "(echo, sleep)");
  cmd->add_option("--name", args.name, "Worker name in the host's messages (default: HOSTNAME-PID)");
  cmd->add_option("--token-file", args.token_file, "File holding the host's token (else CHORUS_TOKEN)");
  cmd->add_option("--tls-ca", args.tls_ca, "PEM roots to verify the host's TLS certificate");
  cmd->add_option("--threads", args.threads, "Agent executor threads")->capture_default_str();
  cmd->callback([] { run_worker(args); });
}

}  // namespace

CHORUS_CLI_COMMAND(worker, 71, install_worker_command);

}  // namespace chorus::cli
