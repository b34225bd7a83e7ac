#pragma once
// Runs one child process under resource limits: no shell, own session, captured and capped output,
// wall-clock timeout that kills the whole process group, and no child left behind when it returns.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace chorus::tools {

// Resource limits applied to a child (rlimits are set in the child before exec, so they also bind a
// sandbox launcher such as bwrap and everything it starts).
struct SandboxLimits {
  std::chrono::milliseconds timeout{10'000};  // wall clock; then SIGKILL to the process group
  std::size_t memory_bytes = 512u << 20;      // RLIMIT_AS (address space)
  std::size_t output_bytes = 1u << 20;        // kept per stream (stdout, stderr); the rest is discarded
  std::size_t file_bytes = 64u << 20;         // RLIMIT_FSIZE (largest file the child may write)
  std::size_t open_files = 256;               // RLIMIT_NOFILE
  std::size_t processes = 0;                  // RLIMIT_NPROC when > 0 (counts all of the user's tasks)
};

// What to run: argv[0] is an absolute path; env is the complete environment.
struct ProcessSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd;         // working directory ("" = inherit)
  std::string stdin_text;  // the child's whole stdin
  SandboxLimits limits;
  bool sandbox_info_fd = false;  // give the child fd 3 for bwrap's --info-fd (see .cpp)
};

// How the child ended and what it printed.
struct ProcessOutcome {
  std::string out;         // stdout, capped, with the truncation marker if cut
  std::string err;         // stderr, likewise
  int exit_code = -1;      // exit status, or 128+signal when killed
  bool timed_out = false;  // killed at the wall-clock limit
  bool truncated = false;  // some output was dropped
  double elapsed_ms = 0;   // from fork to reaping the child
};

// The line appended to a stream cut at `cap` bytes.
std::string truncation_marker(std::size_t cap);

// Runs the child to completion (or the timeout); throws ToolError when it cannot be started.
ProcessOutcome run_sandboxed_process(const ProcessSpec& spec);

}  // namespace chorus::tools
