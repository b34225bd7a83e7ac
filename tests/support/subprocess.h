#pragma once
// Runs a real child process for tests and captures what it prints.
#include <string>
#include <vector>

namespace chorus::testing {

struct ProcessResult {
  int exit_code = -1;   // exit status, or 128+signal when killed
  std::string out;      // everything written to stdout
  std::string err;      // everything written to stderr
};

// Runs argv[0] with arguments (no shell), optional stdin text and extra "K=V" environment entries.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                          const std::vector<std::string>& extra_env = {});
// Runs the built `chorus` program with `args`.
ProcessResult run_chorus(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace chorus::testing
