#pragma once
// chorus calibrate: calibration commands (qfilters here; other calibrate-*.cpp files add their own children).
#include <CLI/CLI.hpp>

namespace chorus::cli {

// The "calibrate" subcommand of `root`: returns it when already added, else creates it (so each file can add a child).
CLI::App* calibrate_app(CLI::App& root);

}  // namespace chorus::cli
