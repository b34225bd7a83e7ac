#pragma once
// The `chorus kv` command group, shared by the files that add its subcommands.
#include <CLI/CLI.hpp>

namespace chorus::cli {

// The "kv" subcommand of `root`, created on first use.
CLI::App* kv_app(CLI::App& root);

}  // namespace chorus::cli
