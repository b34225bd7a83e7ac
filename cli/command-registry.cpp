#include "cli/command-registry.h"

#include <algorithm>
#include <vector>

namespace chorus::cli {
namespace {

struct Registered {
  std::string name;
  int order;
  CommandInstaller installer;
};

std::vector<Registered>& registry() {
  static std::vector<Registered> commands;
  return commands;
}

}  // namespace

bool register_command(std::string name, int order, CommandInstaller installer) {
  registry().push_back({std::move(name), order, std::move(installer)});
  return true;
}

void install_commands(CLI::App& root) {
  auto commands = registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const Registered& a, const Registered& b) { return a.order < b.order; });
  for (const auto& command : commands) command.installer(root);
}

void exit_with(int status) { throw CLI::RuntimeError(status); }

}  // namespace chorus::cli
