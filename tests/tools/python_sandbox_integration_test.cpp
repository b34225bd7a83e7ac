// The python tool with real interpreters and real sandboxes: output, errors, stdin, time/memory/output
// limits, file system and network isolation (bubblewrap only), and no process left behind.
// CHORUS_PYTHON_SANDBOX=rlimits runs everything without bubblewrap (the isolation tests then skip).
#include "tools/python-sandbox.h"
#include "tools/python-tool.h"
#include "tools/tool-registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <thread>

namespace chorus::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

PythonSandboxConfig base_config() {
  PythonSandboxConfig config = python_config_from_environment();
  config.limits.timeout = std::chrono::seconds(10);
  return config;
}

bool uses_bubblewrap() {
  return resolve_sandbox_mode(base_config()) == SandboxMode::bubblewrap;
}

std::string why_no_bubblewrap() {
  const PythonSandboxConfig config = base_config();
  if (config.mode == SandboxMode::rlimits) return "CHORUS_PYTHON_SANDBOX=rlimits";
  return sandbox_unavailable_reason(config);
}

// Calls the python tool through a registry (arguments and result validated) and expects success.
json run_tool(const json& args, PythonSandboxConfig config = base_config()) {
  ToolRegistry registry;
  registry.add(make_python_tool(std::move(config)));
  const CallResult result = registry.call("python", args);
  EXPECT_TRUE(result.ok()) << result.error;
  return result.value;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Pids of live processes having `arg` as one of their arguments.
std::vector<int> processes_with_argument(const std::string& arg) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "cmdline", std::ios::binary);
    std::string part;
    while (std::getline(file, part, '\0')) {
      if (part == arg) {
        pids.push_back(std::stoi(name));
        break;
      }
    }
  }
  return pids;
}

std::string unique_token(const char* what) {
  std::random_device random;
  return std::string("chorus-") + what + "-" + std::to_string(::getpid()) + "-" + std::to_string(random());
}

// Runs the tool on a background thread while watching /proc for `token`; true when it was seen running.
bool run_watching(const json& args, const std::string& token, json& result) {
  auto call = std::async(std::launch::async, [&] { return run_tool(args); });
  bool seen = false;
  while (call.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (!seen) seen = !processes_with_argument(token).empty();
  }
  result = call.get();
  return seen;
}

class PythonSandbox : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::cout << "[python sandbox] mode: " << to_string(resolve_sandbox_mode(base_config()));
    if (!uses_bubblewrap()) std::cout << " (bubblewrap unavailable: " << why_no_bubblewrap() << ")";
    std::cout << std::endl;
  }
};

TEST_F(PythonSandbox, PrintsToStdout) {
  const json r = run_tool({{"code", "print('hi')"}});
  EXPECT_EQ(r["stdout"], "hi\n");
  EXPECT_EQ(r["stderr"], "");
  EXPECT_EQ(r["exit_code"], 0);
  EXPECT_EQ(r["timed_out"], false);
  EXPECT_EQ(r["truncated"], false);
  EXPECT_EQ(r["sandbox"], uses_bubblewrap() ? "bubblewrap" : "rlimits");
  EXPECT_GT(r["elapsed_ms"].get<double>(), 0.0);
}

TEST_F(PythonSandbox, UncaughtExceptionExitsOneWithTraceback) {
  const json r = run_tool({{"code", "print('before')\nraise ValueError('boom')\n"}});
  EXPECT_EQ(r["exit_code"], 1);
  EXPECT_EQ(r["stdout"], "before\n");
  const std::string err = r["stderr"];
  EXPECT_NE(err.find("Traceback (most recent call last)"), std::string::npos) << err;
  EXPECT_NE(err.find("ValueError: boom"), std::string::npos) << err;
}

TEST_F(PythonSandbox, StdinIsPassedThrough) {
  const json r = run_tool(
      {{"code", "import sys\nprint(sys.stdin.read().upper(), end='')"}, {"stdin", "hello\nworld\n"}});
  EXPECT_EQ(r["stdout"], "HELLO\nWORLD\n");
  EXPECT_EQ(r["exit_code"], 0);
}

TEST_F(PythonSandbox, DeathBySignalIs128PlusTheSignal) {
  const json r = run_tool({{"code", "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n"}});
  EXPECT_EQ(r["exit_code"], 128 + 15);
  EXPECT_EQ(r["timed_out"], false);
}

TEST_F(PythonSandbox, NoStdinMeansEmptyInput) {
  const json r = run_tool({{"code", "import sys\nprint(repr(sys.stdin.read()))"}});
  EXPECT_EQ(r["stdout"], "''\n");
}

TEST_F(PythonSandbox, InfiniteLoopIsKilledAtTheTimeout) {
  const auto start = Clock::now();
  const json r = run_tool({{"code", "print('started')\nwhile True:\n    pass\n"}, {"timeout_seconds", 1}});
  const double took = seconds_since(start);
  EXPECT_EQ(r["timed_out"], true);
  EXPECT_EQ(r["exit_code"], 128 + 9);
  EXPECT_EQ(r["stdout"], "started\n");  // unbuffered: what was printed before the kill is kept
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 3.0);
}

TEST_F(PythonSandbox, HugeOutputIsTruncatedWithoutBufferingIt) {
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  const auto start = Clock::now();
  const json r =
      run_tool({{"code",
                 "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\n"
                 "print('done', file=sys.stderr)\n"}});
  const double took = seconds_since(start);
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const std::string out = r["stdout"];
  const std::string marker = "\n[... output truncated at 1048576 bytes ...]";
  EXPECT_EQ(r["truncated"], true);
  EXPECT_EQ(out.size(), (1u << 20) + marker.size());
  EXPECT_TRUE(out.ends_with(marker));
  EXPECT_EQ(out.find_first_not_of('x'), std::size_t{1} << 20);
  EXPECT_EQ(r["stderr"], "done\n");  // the program ran to its end: extra output is drained, not fatal
  EXPECT_EQ(r["exit_code"], 0);
  EXPECT_EQ(r["timed_out"], false);
  EXPECT_LT(took, 5.0);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 32 * 1024)
      << "peak RSS grew by " << after.ru_maxrss - before.ru_maxrss << " KiB";
}

TEST_F(PythonSandbox, MemoryHogFailsUnderTheLimit) {
  PythonSandboxConfig config = base_config();
  config.limits.memory_bytes = 256u << 20;
  const json r = run_tool({{"code", "x = bytearray(2 * 1024 ** 3)\nprint('allocated', len(x))\n"}}, config);
  EXPECT_NE(r["exit_code"], 0);
  EXPECT_EQ(r["stdout"], "");
  EXPECT_NE(r["stderr"].get<std::string>().find("MemoryError"), std::string::npos) << r["stderr"];
}

TEST_F(PythonSandbox, WorkingDirectoryIsWritable) {
  const json r = run_tool({{"code", "open('out.txt', 'w').write('kept')\nprint(open('out.txt').read())"}});
  EXPECT_EQ(r["stdout"], "kept\n");
  EXPECT_EQ(r["exit_code"], 0);
}

TEST_F(PythonSandbox, EnvironmentIsNotInherited) {
  ::setenv("CHORUS_PYTHON_TEST_SECRET", "do-not-leak", 1);
  const json r = run_tool({{"code", "import os\nprint(os.environ.get('CHORUS_PYTHON_TEST_SECRET'))"}});
  ::unsetenv("CHORUS_PYTHON_TEST_SECRET");
  EXPECT_EQ(r["stdout"], "None\n");
}

TEST_F(PythonSandbox, ScratchDirectoryIsRemovedAfterwards) {
  const fs::path tmp = fs::temp_directory_path() / unique_token("tmpdir");
  fs::create_directories(tmp);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  const json r = run_tool({{"code",
                            "import os\nos.makedirs('a/b')\nopen('a/b/f', 'w').write('x')\nos.chmod('a', 0)\n"
                            "print('ok')\n"}});
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_EQ(r["stdout"], "ok\n");
  EXPECT_TRUE(fs::is_empty(tmp)) << fs::directory_iterator(tmp)->path();
  fs::remove_all(tmp);
}

TEST_F(PythonSandbox, ForkedChildrenDieWithTheTimedOutProgram) {
  const std::string token = unique_token("grandchild");
  const std::string code =
      "import os, sys, time\n"
      "if os.fork() == 0:\n"
      "    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', '" +
      token +
      "'])\n"
      "print('forked')\n"
      "while True:\n"
      "    time.sleep(0.05)\n";
  json r;
  const auto start = Clock::now();
  const bool seen = run_watching({{"code", code}, {"timeout_seconds", 1}}, token, r);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_TRUE(seen) << "the grandchild never appeared";
  EXPECT_EQ(r["timed_out"], true);
  EXPECT_EQ(r["stdout"], "forked\n");
  EXPECT_TRUE(processes_with_argument(token).empty()) << "the grandchild outlived the call";
}

TEST_F(PythonSandbox, BackgroundChildrenDieWhenTheProgramEnds) {
  const std::string token = unique_token("daemon");
  const std::string code =
      "import os, sys, time\n"
      "if os.fork() == 0:\n"
      "    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', '" +
      token +
      "'])\n"
      "time.sleep(0.5)\n"
      "print('parent done')\n";
  json r;
  const bool seen = run_watching({{"code", code}}, token, r);
  EXPECT_TRUE(seen) << "the background child never appeared";
  EXPECT_EQ(r["timed_out"], false);
  EXPECT_EQ(r["stdout"], "parent done\n");
  EXPECT_TRUE(processes_with_argument(token).empty()) << "the background child outlived the call";
}

TEST_F(PythonSandbox, NewSessionEscapeeDiesUnderBubblewrap) {
  if (!uses_bubblewrap())
    GTEST_SKIP() << "rlimits mode cannot catch a child that calls setsid(): " << why_no_bubblewrap();
  const std::string token = unique_token("escapee");
  const std::string code =
      "import os, sys, time\n"
      "if os.fork() == 0:\n"
      "    os.setsid()\n"
      "    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', '" +
      token +
      "'])\n"
      "time.sleep(0.5)\n";
  json r;
  const bool seen = run_watching({{"code", code}}, token, r);
  EXPECT_TRUE(seen);
  EXPECT_TRUE(processes_with_argument(token).empty()) << "a setsid() child outlived the call";
}

TEST_F(PythonSandbox, WritesOutsideTheWorkingDirectoryFail) {
  if (!uses_bubblewrap())
    GTEST_SKIP() << "no file system isolation without bubblewrap: " << why_no_bubblewrap();
  const char* home = std::getenv("HOME");
  const std::vector<std::string> targets = {
      "/usr/chorus_test", "/etc/chorus_test",
      std::string(home != nullptr ? home : "/root") + "/chorus_test_" + std::to_string(::getpid())};
  std::string code = "for path in [";
  for (const auto& t : targets) code += "'" + t + "', ";
  code +=
      "]:\n"
      "    try:\n"
      "        open(path, 'w').write('x')\n"
      "        print('WROTE', path)\n"
      "    except OSError as e:\n"
      "        print('denied', path, type(e).__name__)\n"
      "open('inside.txt', 'w').write('fine')\n"
      "print('inside ok')\n";
  const json r = run_tool({{"code", code}});
  const std::string out = r["stdout"];
  EXPECT_EQ(out.find("WROTE"), std::string::npos) << out;
  EXPECT_NE(out.find("inside ok"), std::string::npos) << out << r["stderr"];
  for (const auto& t : targets) {
    EXPECT_NE(out.find("denied " + t), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(t)) << t;
  }
}

TEST_F(PythonSandbox, NoNetworkUnderBubblewrap) {
  if (!uses_bubblewrap()) GTEST_SKIP() << "no network isolation without bubblewrap: " << why_no_bubblewrap();
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  const std::string code =
      "import socket\n"
      "try:\n"
      "    socket.create_connection(('127.0.0.1', " +
      std::to_string(port) +
      "), timeout=2)\n"
      "    print('connected')\n"
      "except OSError as e:\n"
      "    print('failed', type(e).__name__)\n";
  const json r = run_tool({{"code", code}});
  EXPECT_TRUE(r["stdout"].get<std::string>().starts_with("failed")) << r["stdout"] << r["stderr"];
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "a connection reached the host's loopback";
  ::close(listener);
}

TEST_F(PythonSandbox, RlimitsModeCanBeForced) {
  PythonSandboxConfig config = base_config();
  config.mode = SandboxMode::rlimits;
  const json r = run_tool({{"code", "print(6 * 7)"}}, config);
  EXPECT_EQ(r["stdout"], "42\n");
  EXPECT_EQ(r["sandbox"], "rlimits");
}

TEST_F(PythonSandbox, ForcingAnUnusableBubblewrapIsAClearError) {
  PythonSandboxConfig config = base_config();
  config.mode = SandboxMode::bubblewrap;
  config.bwrap = "/nonexistent/bwrap";
  EXPECT_NE(sandbox_unavailable_reason(config).find("/nonexistent/bwrap"), std::string::npos);
  ToolRegistry registry;
  registry.add(make_python_tool(config));
  const CallResult r = registry.call("python", {{"code", "print(1)"}});
  EXPECT_EQ(r.status, CallStatus::failed);
  EXPECT_NE(r.error.find("bubblewrap"), std::string::npos) << r.error;
}

TEST_F(PythonSandbox, AutomaticModeFallsBackToRlimitsWhenBubblewrapFails) {
  PythonSandboxConfig config = base_config();
  config.mode = SandboxMode::automatic;
  config.bwrap = "/usr/bin/false";  // exists but never runs anything
  EXPECT_NE(sandbox_unavailable_reason(config).find("failed (exit 1)"), std::string::npos)
      << sandbox_unavailable_reason(config);
  const json r = run_tool({{"code", "print('fallback')"}}, config);
  EXPECT_EQ(r["stdout"], "fallback\n");
  EXPECT_EQ(r["sandbox"], "rlimits");
}

TEST_F(PythonSandbox, MissingInterpreterIsAClearError) {
  PythonSandboxConfig config = base_config();
  config.interpreter = "/nonexistent/python3";
  config.mode = SandboxMode::rlimits;
  ToolRegistry registry;
  registry.add(make_python_tool(config));
  const CallResult r = registry.call("python", {{"code", "print(1)"}});
  EXPECT_EQ(r.status, CallStatus::failed);
  EXPECT_NE(r.error.find("/nonexistent/python3"), std::string::npos) << r.error;
}

TEST(PythonSandboxMode, ParsesTheEnvironmentValues) {
  EXPECT_EQ(parse_sandbox_mode("auto"), SandboxMode::automatic);
  EXPECT_EQ(parse_sandbox_mode("bubblewrap"), SandboxMode::bubblewrap);
  EXPECT_EQ(parse_sandbox_mode("rlimits"), SandboxMode::rlimits);
  EXPECT_THROW(parse_sandbox_mode("docker"), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::tools
