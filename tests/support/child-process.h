#pragma once
// ChildProcess: a long-running child (a `chorus serve` host, a worker) for tests: its output is collected in the
// background, tests wait for a line to appear, send signals, and the child is killed when the object goes away.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace chorus::testing {

class ChildProcess {
 public:
  // Starts argv[0] with arguments (no shell) and extra "K=V" environment entries; stdin is /dev/null.
  explicit ChildProcess(std::vector<std::string> argv, const std::vector<std::string>& extra_env = {});
  ~ChildProcess();  // SIGKILL if still running, then reaps it
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until stderr holds at least `count` lines containing `text`; returns the last such line, or nothing
  // after `timeout` or when the child exited first.
  std::optional<std::string> wait_for_line(const std::string& text, std::chrono::milliseconds timeout,
                                           int count = 1);
  // How many stderr lines contain `text` so far.
  int count_lines(const std::string& text) const;
  // Everything written so far.
  std::string err() const;
  std::string out() const;
  // Sends a signal (SIGTERM, SIGKILL, ...).
  void signal(int sig);
  // Waits for the exit: the exit status (128+signal when killed), or nothing after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap; returns at once when it already exited.
  void kill();

 private:
  void pump();
  bool reap(bool block);

  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  mutable std::mutex mutex_;
  std::string out_, err_;
  bool streams_closed_ = false;
  std::optional<int> exit_code_;
  std::thread reader_;
};

// Starts the built `chorus` program with `args`.
std::unique_ptr<ChildProcess> start_chorus(const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env = {});

// Starts `chorus serve --listen 127.0.0.1:0 <args>` and waits for "chorus host listening on ADDR"; sets
// `address`. Throws std::runtime_error with the host's stderr when it does not come up within 20 s.
std::unique_ptr<ChildProcess> start_host(const std::vector<std::string>& args, std::string& address,
                                         const std::vector<std::string>& extra_env = {});
// Starts `chorus worker --connect ADDRESS <args>` and waits for its "connected to" line (20 s).
std::unique_ptr<ChildProcess> start_worker(const std::string& address, const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env = {});

}  // namespace chorus::testing
