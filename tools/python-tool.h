#pragma once
// python: runs a short Python 3 program in a sandbox (see tools/python-sandbox.h) and returns what it
// printed.
//
// Args {code, stdin?, timeout_seconds? (1..the configured limit)}; result {stdout, stderr, exit_code,
// timed_out, truncated, sandbox ("bubblewrap" | "rlimits"), elapsed_ms}. A failing program is a normal result
// (non-zero exit_code, traceback in stderr); only a run that cannot start fails the call.
//
// Environment (python_config_from_environment):
//   CHORUS_PYTHON_SANDBOX       auto (default) | bubblewrap | rlimits
//   CHORUS_PYTHON_TIMEOUT       wall-clock limit and largest timeout_seconds, in seconds (default 10)
//   CHORUS_PYTHON_MEMORY_MB     address-space limit in MiB (default 512)
//   CHORUS_PYTHON_OUTPUT_BYTES  bytes kept per stream (default 1048576)
//   CHORUS_PYTHON_INTERPRETER   the interpreter (default /usr/bin/python3)
#include "tools/python-sandbox.h"
#include "tools/tool-registry.h"
#include "tools/tool.h"

namespace chorus::tools {

// The defaults overridden by the CHORUS_PYTHON_* variables; throws std::invalid_argument on a bad value.
PythonSandboxConfig python_config_from_environment();

// The python tool running programs with `config`.
Tool make_python_tool(PythonSandboxConfig config);

// Adds the python tool configured from the environment (a bad variable makes every call fail, naming it).
void register_python_tool(ToolRegistry& registry);

}  // namespace chorus::tools
