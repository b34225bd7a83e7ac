#include "tests/support/child-process.h"

#include "tests/support/paths.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace chorus::testing {
namespace {

// Counts complete lines only: a line still being written (no newline yet) may be cut short, e.g. an address.
int count_in(const std::string& text, const std::string& needle, std::string* last) {
  int n = 0;
  std::istringstream in(text.substr(0, text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1));
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) {
      ++n;
      if (last) *last = line;
    }
  return n;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::vector<std::string>& extra_env) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& kv : extra_env) {
    auto eq = kv.find('=');
    std::string prefix = kv.substr(0, eq + 1);
    for (auto it = env_store.begin(); it != env_store.end();)
      it = it->rfind(prefix, 0) == 0 ? env_store.erase(it) : std::next(it);
    env_store.push_back(kv);
  }
  std::vector<char*> envp, args;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  reader_ = std::thread([this] { pump(); });
}

ChildProcess::~ChildProcess() {
  kill();
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::pump() {
  char buf[65536];
  int fds_open = 2;
  while (fds_open > 0) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      ssize_t r = read(fds[i].fd, buf, sizeof buf);
      std::lock_guard lock(mutex_);
      if (r <= 0) {
        close(fds[i].fd);
        (fds[i].fd == out_fd_ ? out_fd_ : err_fd_) = -1;
        --fds_open;
      } else {
        (fds[i].fd == out_fd_ ? out_ : err_).append(buf, static_cast<size_t>(r));
      }
    }
  }
  std::lock_guard lock(mutex_);
  streams_closed_ = true;
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& text, std::chrono::milliseconds timeout,
                                                       int count) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      std::string last;
      if (count_in(err_, text, &last) >= count) return last;
      if (streams_closed_) return std::nullopt;
    }
    if (std::chrono::steady_clock::now() > until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int ChildProcess::count_lines(const std::string& text) const {
  std::lock_guard lock(mutex_);
  return count_in(err_, text, nullptr);
}

std::string ChildProcess::err() const {
  std::lock_guard lock(mutex_);
  return err_;
}

std::string ChildProcess::out() const {
  std::lock_guard lock(mutex_);
  return out_;
}

void ChildProcess::signal(int sig) {
  if (!exit_code_ && pid_ > 0) ::kill(pid_, sig);
}

bool ChildProcess::reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() > until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

void ChildProcess::kill() {
  if (pid_ <= 0 || exit_code_) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

std::unique_ptr<ChildProcess> start_chorus(const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {chorus_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(argv, extra_env);
}

std::unique_ptr<ChildProcess> start_host(const std::vector<std::string>& args, std::string& address,
                                         const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {"serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto host = start_chorus(argv, extra_env);
  const std::string marker = "chorus host listening on ";
  auto line = host->wait_for_line(marker, std::chrono::seconds(20));
  if (!line) throw std::runtime_error("the host did not start; its stderr:\n" + host->err());
  address = line->substr(line->find(marker) + marker.size());
  while (!address.empty() && (address.back() == '\r' || address.back() == ' ')) address.pop_back();
  return host;
}

std::unique_ptr<ChildProcess> start_worker(const std::string& address, const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {"worker", "--connect", address};
  argv.insert(argv.end(), args.begin(), args.end());
  auto worker = start_chorus(argv, extra_env);
  if (!worker->wait_for_line("connected to " + address, std::chrono::seconds(20)))
    throw std::runtime_error("the worker did not connect; its stderr:\n" + worker->err());
  return worker;
}

}  // namespace chorus::testing
