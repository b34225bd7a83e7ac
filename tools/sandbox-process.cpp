// The child runs in its own session (so its process group id is its pid) with rlimits set before exec.
// The parent polls stdout, stderr and a pidfd of the child; output past the cap is read and discarded so the
// child never blocks on a full pipe (it keeps running until it ends or the wall clock runs out).
//
// Nothing outlives a call: the group is SIGKILLed as soon as the leader exits (stragglers) or at the timeout,
// always before the leader is reaped, so the group id cannot have been reused. With bwrap (sandbox_info_fd),
// bwrap reports the pid of the sandbox's pid-1 on fd 3; at the timeout that process is killed first, which
// makes the kernel kill everything in the sandbox's pid namespace, and bwrap exits only once that is done.
#include "tools/sandbox-process.h"

#include "tools/tool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace chorus::tools {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDrainGrace = std::chrono::seconds(1);        // reading on after the leader exits
constexpr auto kSandboxKillGrace = std::chrono::seconds(2);  // waiting for bwrap after killing its pid 1
constexpr auto kPollTick = std::chrono::milliseconds(10);    // only when pidfd_open is unavailable
constexpr int kChildErrorFd = 4;                             // where the child reports a failed setup

[[noreturn]] void fail(const std::string& what) {
  const int err = errno;
  throw ToolError(what + ": " + std::strerror(err));
}

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe");
  return {Fd(fds[0]), Fd(fds[1])};
}

// A memory file holding the child's stdin (no writer to block on, no SIGPIPE).
Fd stdin_file(const std::string& text) {
  Fd fd(::memfd_create("chorus-stdin", MFD_CLOEXEC));
  if (!fd.open()) fail("memfd_create");
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("writing stdin");
    done += static_cast<std::size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) fail("lseek");
  return fd;
}

// Everything the child needs, prepared before fork (the child may only make async-signal-safe calls).
struct ChildSetup {
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd = nullptr;
  int fds[5] = {-1, -1, -1, -1, -1};  // become 0 stdin, 1 stdout, 2 stderr, 3 info (optional), 4 error
  std::vector<std::pair<int, rlimit>> rlimits;
  pid_t parent = 0;
  int max_fd = 1024;  // fallback when close_range is unavailable
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

rlimit both(rlim_t value) {
  return {value, value};
}

std::vector<std::pair<int, rlimit>> rlimits_for(const SandboxLimits& limits) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(limits.timeout).count();
  std::vector<std::pair<int, rlimit>> out = {
      {RLIMIT_AS, both(limits.memory_bytes)},
      {RLIMIT_CPU, {static_cast<rlim_t>(seconds + 1), static_cast<rlim_t>(seconds + 2)}},
      {RLIMIT_FSIZE, both(limits.file_bytes)},
      {RLIMIT_NOFILE, both(limits.open_files)},
      {RLIMIT_CORE, both(0)},
  };
  if (limits.processes > 0) out.push_back({RLIMIT_NPROC, both(limits.processes)});
  return out;
}

[[noreturn]] void child_fail(int fd) {
  const int err = errno;
  [[maybe_unused]] const ssize_t n = ::write(fd, &err, sizeof err);
  ::_exit(127);
}

[[noreturn]] void child_main(const ChildSetup& s) {
  const int error_fd = s.fds[4];
  if (::setsid() < 0) child_fail(error_fd);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(error_fd);
  if (::getppid() != s.parent) ::_exit(127);  // the parent died before prctl took effect
  // Move the descriptors above the targets first so that no dup2 overwrites a source.
  int moved[5];
  for (int i = 0; i < 5; ++i) {
    moved[i] = s.fds[i] < 0 ? -1 : ::fcntl(s.fds[i], F_DUPFD, 10);
    if (s.fds[i] >= 0 && moved[i] < 0) child_fail(error_fd);
  }
  for (int i = 0; i < 5; ++i) {
    if (moved[i] >= 0 && ::dup2(moved[i], i) < 0) child_fail(moved[4]);
  }
  if (::fcntl(kChildErrorFd, F_SETFD, FD_CLOEXEC) != 0) child_fail(kChildErrorFd);
  if (moved[3] < 0) ::close(3);
  if (::close_range(kChildErrorFd + 1, ~0U, 0) != 0) {
    for (int fd = kChildErrorFd + 1; fd < s.max_fd; ++fd) ::close(fd);
  }
  if (s.cwd != nullptr && ::chdir(s.cwd) != 0) child_fail(kChildErrorFd);
  for (const auto& [resource, value] : s.rlimits) {
    if (::setrlimit(resource, &value) != 0) child_fail(kChildErrorFd);
  }
  // Ignored signals and the signal mask survive exec; give the child the defaults.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(s.argv[0], s.argv.data(), s.envp.data());
  child_fail(kChildErrorFd);
}

// Kills and reaps the child if the parent leaves early (an exception); a no-op once released.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // Reaps the child and returns its wait status.
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return status;
  }

 private:
  pid_t pid_;
};

// One captured stream: keeps `cap` bytes and counts the rest as dropped.
struct Stream {
  Fd fd;
  std::string data;
  bool truncated = false;

  void read_some(std::size_t cap) {
    char buffer[64 * 1024];
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      fd.reset();
      return;
    }
    const auto got = static_cast<std::size_t>(n);
    const std::size_t keep = std::min(got, cap - std::min(cap, data.size()));
    data.append(buffer, keep);
    if (keep < got) truncated = true;
  }

  std::string finish(std::size_t cap) {
    if (truncated) data += truncation_marker(cap);
    return std::move(data);
  }
};

// The pid written by bwrap --info-fd as "child-pid": N, once the text holds it.
pid_t parse_child_pid(const std::string& info) {
  const auto key = info.find("\"child-pid\"");
  if (key == std::string::npos) return 0;
  const auto colon = info.find(':', key);
  if (colon == std::string::npos) return 0;
  const auto end = info.find_first_of(",}\n", colon);
  if (end == std::string::npos) return 0;
  try {
    return static_cast<pid_t>(std::stol(info.substr(colon + 1, end - colon - 1)));
  } catch (const std::exception&) {
    return 0;
  }
}

// Whether the child has exited, without reaping it (so its pid and group id stay reserved).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int poll_timeout_ms(Clock::time_point now, Clock::time_point until) {
  if (until <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
  return static_cast<int>(std::min<long long>(ms, 60'000));
}

}  // namespace

std::string truncation_marker(std::size_t cap) {
  return "\n[... output truncated at " + std::to_string(cap) + " bytes ...]";
}

ProcessOutcome run_sandboxed_process(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    throw ToolError("run_sandboxed_process: argv[0] must be an absolute path");
  }
  Fd input = stdin_file(spec.stdin_text);
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  Pipe errors = make_pipe();
  Pipe info;
  if (spec.sandbox_info_fd) info = make_pipe();

  ChildSetup setup;
  setup.argv = c_strings(spec.argv);
  setup.envp = c_strings(spec.env);
  setup.cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str();
  setup.fds[0] = input.get();
  setup.fds[1] = out.write.get();
  setup.fds[2] = err.write.get();
  setup.fds[3] = info.write.get();
  setup.fds[4] = errors.write.get();
  setup.rlimits = rlimits_for(spec.limits);
  setup.parent = ::getpid();
  setup.max_fd = static_cast<int>(std::clamp<long>(::sysconf(_SC_OPEN_MAX), 256, 65536));

  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) child_main(setup);
  ChildGuard guard(pid);
  input.reset();
  out.write.reset();
  err.write.reset();
  errors.write.reset();
  info.write.reset();

  int child_errno = 0;
  ssize_t n;
  while ((n = ::read(errors.read.get(), &child_errno, sizeof child_errno)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    guard.reap();
    throw ToolError("cannot start " + spec.argv[0] + ": " + std::strerror(child_errno));
  }

  Stream streams[2] = {{std::move(out.read), {}, false}, {std::move(err.read), {}, false}};
  Fd info_fd = std::move(info.read);
  std::string info_text;
  pid_t sandbox_pid = 0;
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  const auto deadline = start + spec.limits.timeout;
  std::optional<Clock::time_point> kill_group_at;
  Clock::time_point stop_reading = Clock::time_point::max();
  bool exited = false;
  bool timed_out = false;
  const auto kill_group = [pid] { ::kill(-pid, SIGKILL); };

  for (;;) {
    const auto now = Clock::now();
    if (!exited && has_exited(pid)) {
      exited = true;
      kill_group();
      stop_reading = now + kDrainGrace;
    }
    if (!exited && !timed_out && now >= deadline) {
      timed_out = true;
      if (sandbox_pid > 0) {
        ::kill(sandbox_pid, SIGKILL);
        kill_group_at = now + kSandboxKillGrace;
      } else {
        kill_group();
      }
    }
    if (!exited && kill_group_at && now >= *kill_group_at) {
      kill_group();
      kill_group_at.reset();
    }
    const bool reading = streams[0].fd.open() || streams[1].fd.open();
    if (exited && (!reading || now >= stop_reading)) break;

    std::vector<pollfd> fds;
    for (auto& stream : streams) {
      if (stream.fd.open()) fds.push_back({stream.fd.get(), POLLIN, 0});
    }
    if (info_fd.open()) fds.push_back({info_fd.get(), POLLIN, 0});
    if (!exited && pidfd.open()) fds.push_back({pidfd.get(), POLLIN, 0});
    Clock::time_point wake = exited      ? stop_reading
                             : timed_out ? kill_group_at.value_or(now + kPollTick)
                                         : deadline;
    if (!exited && !pidfd.open()) wake = std::min(wake, now + kPollTick);
    if (::poll(fds.data(), fds.size(), poll_timeout_ms(now, wake)) < 0 && errno != EINTR) fail("poll");

    for (const auto& p : fds) {
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      for (auto& stream : streams) {
        if (stream.fd.open() && p.fd == stream.fd.get()) stream.read_some(spec.limits.output_bytes);
      }
      if (info_fd.open() && p.fd == info_fd.get()) {
        char buffer[1024];
        const ssize_t got = ::read(info_fd.get(), buffer, sizeof buffer);
        if (got > 0 && info_text.size() < 16 * 1024) info_text.append(buffer, static_cast<std::size_t>(got));
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) info_fd.reset();
        if (sandbox_pid == 0) sandbox_pid = parse_child_pid(info_text);
      }
    }
  }

  const int status = guard.reap();
  ProcessOutcome outcome;
  outcome.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  outcome.truncated = streams[0].truncated || streams[1].truncated;
  outcome.out = streams[0].finish(spec.limits.output_bytes);
  outcome.err = streams[1].finish(spec.limits.output_bytes);
  outcome.timed_out = timed_out;
  outcome.exit_code = timed_out ? 128 + SIGKILL : exit_code_of(status);
  return outcome;
}

}  // namespace chorus::tools
