#pragma once
// `chorus train ...`: making the project's own model parts (tokenizer, ...). Each training command file adds its
// subcommand to the shared "train" group through train_app().
#include <CLI/CLI.hpp>

namespace chorus::cli {

// The "train" subcommand of root, created (requiring one subcommand) on first use.
CLI::App* train_app(CLI::App& root);

}  // namespace chorus::cli
