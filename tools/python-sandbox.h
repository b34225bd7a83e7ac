#pragma once
// Runs a Python program in a fresh scratch directory: inside bubblewrap (no network, read-only system, only
// the scratch directory writable) when bwrap works here, otherwise as a plain process under rlimits.
#include "tools/sandbox-process.h"

#include <string>
#include <string_view>

namespace chorus::tools {

// How the program is isolated; automatic picks bubblewrap when it is usable, else rlimits.
enum class SandboxMode { automatic, bubblewrap, rlimits };

// "auto", "bubblewrap" or "rlimits".
const char* to_string(SandboxMode mode);
// Parses "auto", "bubblewrap" or "rlimits"; throws std::invalid_argument on anything else.
SandboxMode parse_sandbox_mode(std::string_view text);

// Where the programs are and how a run is isolated and limited.
struct PythonSandboxConfig {
  std::string interpreter = "/usr/bin/python3";  // must live under /usr (or its own prefix) for bubblewrap
  std::string bwrap = "/usr/bin/bwrap";
  SandboxMode mode = SandboxMode::automatic;
  SandboxLimits limits;
};

// One run: the process outcome and the isolation actually used (bubblewrap or rlimits).
struct PythonRun {
  ProcessOutcome outcome;
  SandboxMode sandbox = SandboxMode::rlimits;
};

// Why bubblewrap cannot be used with this config ("" when it can); probed once per bwrap/interpreter pair.
std::string sandbox_unavailable_reason(const PythonSandboxConfig& config);
// Whether bubblewrap can be used with this config (probed once, then cached).
bool bubblewrap_usable(const PythonSandboxConfig& config);
// The mode a run would use; throws ToolError when bubblewrap is forced but unusable.
SandboxMode resolve_sandbox_mode(const PythonSandboxConfig& config);

// Writes `code` to main.py in a new temp dir, runs it there with `stdin_text`, removes the dir.
// Throws ToolError when the program cannot be started (the program's own failures are in the outcome).
PythonRun run_python(const std::string& code, const std::string& stdin_text,
                     const PythonSandboxConfig& config);

}  // namespace chorus::tools
