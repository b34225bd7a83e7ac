#pragma once
// Shared pieces of `chorus runs ...` for the files that add subcommands to it (list/show/trace, resume,
// replay).
#include <CLI/CLI.hpp>

#include <string>

namespace chorus::cli {

// The store file: `flag` when given, else $CHORUS_STORE, else runs.db in the current directory.
std::string store_path(const std::string& flag);

// Adds `--store FILE` (bound to `store`) to a runs subcommand.
CLI::Option* add_store_option(CLI::App& app, std::string& store);

// The installed `runs` subcommand of the root app (installed at order 60; install yours with a higher order).
CLI::App& runs_app(CLI::App& root);

}  // namespace chorus::cli
