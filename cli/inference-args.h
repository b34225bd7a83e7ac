#pragma once
// Shared argument handling for the inference subcommands (ids, device, one-line error reporting).
#include "inference/model.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace chorus::cli {

// Parses "1,2,3" (spaces allowed); throws std::invalid_argument naming `option` and the bad item.
std::vector<int64_t> parse_ids(const std::string& text, const std::string& option);
// "cpu", "cuda" or "cuda:N" as a device; throws std::invalid_argument for another name or when CUDA is unavailable.
torch::Device parse_device(const std::string& device);
// Adds --device cpu|cuda|cuda:N.
void add_device_option(CLI::App* app, std::string& device);
// f32 on CPU; bf16 on CUDA. Throws when CUDA is asked for but unavailable.
inference::LoadOptions load_options(const std::string& device);
// Runs `body`; an exception becomes one line "chorus <command>: error: <message>" on stderr and exit 1.
void run_reporting_errors(const std::string& command, const std::function<void()>& body);

}  // namespace chorus::cli
