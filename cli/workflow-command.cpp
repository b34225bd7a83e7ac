// chorus workflow check FILE...: validate workflow YAML files (reference: docs/workflow-yaml.md).
#include "cli/command-registry.h"
#include "cli/workflow-kinds.h"
#include "runtime/agent-kinds.h"
#include "runtime/workflow-spec.h"
#include "tools/builtin-tools.h"


#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace chorus::cli {
namespace {


std::string plural(size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Checks one file: prints "FILE: ok (...)" and its warnings, or every problem. Returns whether it is valid.
bool check_file(const std::string& path) {
  try {
    auto kinds = make_workflow_kinds(path);
    auto spec = runtime::WorkflowSpec::load(path, kinds.get());
    std::cout << path << ": ok (" << plural(spec.agents.size(), "agent") << ", " << plural(spec.tasks.size(), "task")
              << ", " << plural(spec.flow.steps.size(), "step") << ")\n";
    for (const auto& warning : spec.warnings) std::cerr << warning << "\n";
    return true;
  } catch (const runtime::WorkflowError& e) {
    for (const auto& problem : e.problems()) std::cerr << problem << "\n";
    std::cerr << path << ": " << plural(e.problems().size(), "problem") << "\n";
    return false;
  }
}

void install_workflow_command(CLI::App& root) {
  auto* workflow = root.add_subcommand("workflow", "Work with workflow YAML files (see docs/workflow-yaml.md)");
  workflow->require_subcommand(1);

  auto* check = workflow->add_subcommand(
      "check", "Validate workflow files: prints 'FILE: ok (...)' or every problem as file:line:column (exit 1)");
  static std::vector<std::string> files;
  check->add_option("files", files, "Workflow YAML files")->required();
  check->callback([] {
    bool all_ok = true;
    for (const auto& file : files) all_ok = check_file(file) && all_ok;
    if (!all_ok) exit_with(1);
  });
}

}  // namespace

CHORUS_CLI_COMMAND(workflow, 45, install_workflow_command);

}  // namespace chorus::cli
