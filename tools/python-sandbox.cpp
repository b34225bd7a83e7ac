// Bubblewrap layout: --unshare-all (new user, pid, net, ipc, uts, cgroup namespaces: no network besides an
// empty loopback), --die-with-parent, --new-session, --cap-drop ALL (bwrap keeps root's capabilities
// otherwise), /usr and a few /etc files read-only, /bin /lib ... as on the host (symlinks on Debian), fresh
// /proc and /dev, the scratch directory bound read-write at /work (the working directory), the sandbox's own
// root (where /etc and /work are created) and /dev remounted read-only. Besides /work only /tmp and /dev/shm
// are writable: fresh tmpfs of limits.file_bytes each, gone with the sandbox. /work itself has no total size
// cap (RLIMIT_FSIZE bounds each file).
// The environment is reduced to PATH, HOME, LANG (and TMPDIR without bubblewrap) in both modes.
#include "tools/python-sandbox.h"

#include "tools/tool.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace chorus::tools {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSandboxDir = "/work";
constexpr const char* kProgram = "main.py";

// A fresh directory from mkdtemp, removed (with whatever the program left) on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/chorus-python-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw ToolError("cannot create a temp dir in " + pattern);
    path_ = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (fs::remove_all(path_, ec) != static_cast<std::uintmax_t>(-1) && !ec) return;
    // The program may have made directories unwritable; make them writable again and retry.
    for (auto it = fs::recursive_directory_iterator(path_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file.flush()) throw ToolError("cannot write " + path);
}

std::vector<std::string> minimal_env(const std::string& home, bool with_tmpdir) {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8",
                                  "PYTHONDONTWRITEBYTECODE=1"};
  if (with_tmpdir) env.push_back("TMPDIR=" + home);
  return env;
}

// The /etc files Python needs to start (loader cache, time zone, Debian's python config), nothing secret.
std::vector<std::string> etc_files() {
  std::vector<std::string> files = {"/etc/ld.so.cache", "/etc/ld.so.conf",   "/etc/ld.so.conf.d",
                                    "/etc/localtime",   "/etc/alternatives", "/etc/passwd",
                                    "/etc/group",       "/etc/nsswitch.conf"};
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/etc", ec)) {
    if (entry.path().filename().string().starts_with("python")) files.push_back(entry.path().string());
  }
  return files;
}

std::vector<std::string> bubblewrap_argv(const PythonSandboxConfig& config, const std::string& scratch,
                                         const std::vector<std::string>& command) {
  std::vector<std::string> argv = {config.bwrap,    "--unshare-all", "--die-with-parent",
                                   "--new-session", "--cap-drop",    "ALL",
                                   "--ro-bind",     "/usr",          "/usr"};
  std::error_code ec;
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    if (fs::is_symlink(top, ec)) {
      argv.insert(argv.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
    } else if (fs::is_directory(top, ec)) {
      argv.insert(argv.end(), {"--ro-bind", top, top});
    }
  }
  for (const auto& file : etc_files()) argv.insert(argv.end(), {"--ro-bind-try", file, file});
  // An interpreter outside /usr brings its own prefix (e.g. /opt/python/bin/python3 -> /opt/python).
  const fs::path real = fs::weakly_canonical(config.interpreter, ec);
  const fs::path prefix = real.parent_path().parent_path();
  if (!ec && !real.string().starts_with("/usr/") && prefix.has_relative_path()) {
    argv.insert(argv.end(), {"--ro-bind", prefix.string(), prefix.string()});
  }
  const std::string tmpfs_size = std::to_string(config.limits.file_bytes);
  argv.insert(argv.end(), {"--proc",  "/proc",    "--dev",     "/dev",         "--size",  tmpfs_size,
                           "--tmpfs", "/dev/shm", "--size",    tmpfs_size,     "--tmpfs", "/tmp",
                           "--bind",  scratch,    kSandboxDir, "--remount-ro", "/",       "--remount-ro",
                           "/dev",    "--chdir",  kSandboxDir, "--info-fd",    "3",       "--"});
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

PythonRun run_in(SandboxMode mode, const std::string& code, const std::string& stdin_text,
                 const PythonSandboxConfig& config) {
  std::error_code ec;
  if (!fs::exists(config.interpreter, ec))
    throw ToolError("python interpreter not found at " + config.interpreter);
  ScratchDir scratch;
  write_file(scratch.path() + "/" + kProgram, code);
  const std::vector<std::string> command = {config.interpreter, "-u", kProgram};
  ProcessSpec spec;
  spec.stdin_text = stdin_text;
  spec.limits = config.limits;
  if (mode == SandboxMode::bubblewrap) {
    spec.argv = bubblewrap_argv(config, scratch.path(), command);
    spec.env = minimal_env(kSandboxDir, false);
    spec.sandbox_info_fd = true;
  } else {
    spec.argv = command;
    spec.env = minimal_env(scratch.path(), true);
    spec.cwd = scratch.path();
  }
  return {run_sandboxed_process(spec), mode};
}

// Runs a trivial program under bubblewrap and explains a failure.
std::string probe_bubblewrap(const PythonSandboxConfig& config) {
  std::error_code ec;
  if (!fs::exists(config.bwrap, ec)) return "bubblewrap not found at " + config.bwrap;
  PythonSandboxConfig probe = config;
  probe.limits = SandboxLimits{};
  try {
    const PythonRun run = run_in(SandboxMode::bubblewrap, "pass\n", "", probe);
    if (run.outcome.timed_out) return "bubblewrap probe timed out";
    if (run.outcome.exit_code != 0) {
      std::string err = run.outcome.err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
      return config.bwrap + " failed (exit " + std::to_string(run.outcome.exit_code) + "): " + err;
    }
  } catch (const ToolError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

const char* to_string(SandboxMode mode) {
  switch (mode) {
    case SandboxMode::automatic:
      return "auto";
    case SandboxMode::bubblewrap:
      return "bubblewrap";
    case SandboxMode::rlimits:
      return "rlimits";
  }
  return "auto";
}

SandboxMode parse_sandbox_mode(std::string_view text) {
  if (text == "auto") return SandboxMode::automatic;
  if (text == "bubblewrap") return SandboxMode::bubblewrap;
  if (text == "rlimits") return SandboxMode::rlimits;
  throw std::invalid_argument("sandbox mode must be auto, bubblewrap or rlimits, not '" + std::string(text) +
                              "'");
}

std::string sandbox_unavailable_reason(const PythonSandboxConfig& config) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, std::string> reasons;
  const std::lock_guard lock(mutex);
  const auto key = std::make_pair(config.bwrap, config.interpreter);
  auto found = reasons.find(key);
  if (found == reasons.end()) found = reasons.emplace(key, probe_bubblewrap(config)).first;
  return found->second;
}

bool bubblewrap_usable(const PythonSandboxConfig& config) {
  return sandbox_unavailable_reason(config).empty();
}

SandboxMode resolve_sandbox_mode(const PythonSandboxConfig& config) {
  if (config.mode == SandboxMode::rlimits) return SandboxMode::rlimits;
  const std::string reason = sandbox_unavailable_reason(config);
  if (reason.empty()) return SandboxMode::bubblewrap;
  if (config.mode == SandboxMode::bubblewrap) {
    throw ToolError(
        "the bubblewrap sandbox was required (CHORUS_PYTHON_SANDBOX=bubblewrap) but is unusable: " + reason);
  }
  return SandboxMode::rlimits;
}

PythonRun run_python(const std::string& code, const std::string& stdin_text,
                     const PythonSandboxConfig& config) {
  return run_in(resolve_sandbox_mode(config), code, stdin_text, config);
}

}  // namespace chorus::tools
