#pragma once
// Shared options of the KV-compression subcommands: press method parameters, filters and sketch files.
#include "inference/kv-press.h"
#include "inference/model-config.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace chorus::cli {

// Method parameters a user can set on the command line.
struct PressArgs {
  std::string filters;     // Q-Filters file (official layout); default <model>/q_filters.safetensors
  std::string sketch;      // compactor/leverage sketch file (tensor "phi" [n_kv, d, k] or [d, k]); default: seeded
  uint64_t seed = 0;       // random press seed; also seeds the default sketch
  int64_t sketch_dim = 48; // k of the default sketch
};

// Adds --filters, --sketch, --sketch-dim and --seed to `app`.
void add_press_options(CLI::App* app, PressArgs& args);
// Press options for `method` on a model: loads filters when the method needs them (qfilters) and the sketch
// (leverage, compactor). Throws std::invalid_argument naming the option and the fix.
inference::PressOptions press_options(const std::string& method, const PressArgs& args,
                                      const inference::ModelConfig& config, const std::filesystem::path& model_dir);
// The default Q-Filters file beside a model.
std::filesystem::path default_filters_path(const std::filesystem::path& model_dir);
// Parses "a,b,c" into doubles; throws std::invalid_argument naming `option`.
std::vector<double> parse_numbers(const std::string& text, const std::string& option);
// Splits "a,b,c" into trimmed non-empty strings; throws std::invalid_argument naming `option` when empty.
std::vector<std::string> parse_names(const std::string& text, const std::string& option);

}  // namespace chorus::cli
