#pragma once
// SIGINT/SIGTERM handling for long-running commands (serve, worker): block them in every thread, then wait.
#include <chrono>

namespace chorus::cli {

// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts afterwards (call first).
void block_stop_signals();
// Waits up to `timeout` for SIGINT/SIGTERM; returns the signal number, or 0 when none came.
int wait_stop_signal(std::chrono::milliseconds timeout);

}  // namespace chorus::cli
