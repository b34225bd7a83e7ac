#pragma once
// Subcommand registration: each cli/*-command.cpp registers its own subcommands; main() installs them all.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace chorus::cli {

// Adds a subcommand tree to the root app (called once at start-up).
using CommandInstaller = std::function<void(CLI::App& root)>;

// Registers an installer; `order` sorts --help (lower first). Returns true (for static initialisation).
bool register_command(std::string name, int order, CommandInstaller installer);

// Installs every registered subcommand into `root`.
void install_commands(CLI::App& root);

// Ends the running subcommand with an exit status (the message, if any, was already printed).
[[noreturn]] void exit_with(int status);

}  // namespace chorus::cli

// In a cli/*-command.cpp: CHORUS_CLI_COMMAND(tools, 20, install_tools_command);
#define CHORUS_CLI_COMMAND(name, order, installer) \
  static const bool chorus_cli_registered_##name = ::chorus::cli::register_command(#name, order, installer)
