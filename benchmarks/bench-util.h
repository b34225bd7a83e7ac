#pragma once
// Small timing helpers shared by the benchmark programs (plain std::chrono; no framework).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds one call of fn takes.
inline double time_once(const std::function<void()>& fn) {
  const auto start = Clock::now();
  fn();
  return seconds_since(start);
}

// Median of the samples (mean of the middle two for an even count); 0 for none.
inline double median(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

// Runs fn `warmup` times untimed, then `reps` times timed; returns the seconds of each timed run.
inline std::vector<double> time_reps(int reps, int warmup, const std::function<void()>& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> out;
  out.reserve(static_cast<size_t>(reps));
  for (int i = 0; i < reps; ++i) out.push_back(time_once(fn));
  return out;
}

// The 1-minute load average from /proc/loadavg (-1 if unreadable), printed with results.
inline double load_average() {
  double load = -1;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

// Runs a shell command and returns its stdout; sets *status to its exit status.
inline std::string run_command(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// Single-quotes s for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// The value of --name=VALUE or --name VALUE in argv, or fallback.
inline std::string arg_value(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == flag && i + 1 < argc) return argv[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return fallback;
}

inline bool has_flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == "--" + name) return true;
  return false;
}

// Where generated benchmark models live: $CHORUS_BENCH_CACHE, else $XDG_CACHE_HOME or ~/.cache /chorus-bench.
inline std::filesystem::path cache_root() {
  namespace fs = std::filesystem;
  if (const char* c = std::getenv("CHORUS_BENCH_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "chorus-bench";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "chorus-bench";
  return fs::temp_directory_path() / "chorus-bench";
}

// cache_root()/name, generated on first use by make_tiny_model.py with `args` into a temporary sibling, then
// renamed into place.
inline std::filesystem::path ensure_model(const std::filesystem::path& shared, const std::string& name,
                                          const std::string& args) {
  namespace fs = std::filesystem;
  const fs::path dir = cache_root() / name;
  if (fs::exists(dir / "config.json") && fs::exists(dir / "model.safetensors")) return dir;
  fs::create_directories(dir.parent_path());
  const fs::path tmp = dir.string() + ".tmp-" + std::to_string(::getpid());
  const std::string command = "/usr/bin/python3 " + shell_quote((shared / "oracle" / "make_tiny_model.py").string()) +
                              " " + args + " --out " + shell_quote(tmp.string()) + " >/dev/null";
  std::printf("generating the model into %s ...\n", dir.c_str());
  std::fflush(stdout);
  const double s = time_once([&] {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("make_tiny_model.py failed: " + command);
  });
  fs::remove_all(dir);
  fs::rename(tmp, dir);
  std::printf("generated in %.1f s\n", s);
  return dir;
}

// "1,2,3" as integers (empty items skipped).
inline std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

}  // namespace chorus::bench
