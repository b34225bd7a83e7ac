// `chorus serve`, `chorus worker` and `chorus send` as users run them: real processes on loopback.
#include "tests/support/child-process.h"
#include "tests/support/paths.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

namespace chorus::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

TEST(ServeCli, SendsThroughTheHostToAWorker) {
  TempDir dir("serve");
  std::string address;
  auto host = start_host({"--store", (dir / "runs.db").string()}, address);
  auto worker = start_worker(address, {"--agents", "echo", "--name", "w1"});
  EXPECT_NE(worker->err().find("connected to " + address + " as w1 hosting: echo"), std::string::npos)
      << worker->err();

  auto ok = run_chorus({"send", "--connect", address, "--to", "echo/a", R"({"x": [1, 2]})"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out), json({{"x", {1, 2}}}));

  auto missing = run_chorus({"send", "--connect", address, "--to", "nobody/a", "{}"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found: no worker hosts agent type 'nobody' (connected workers: w1 (echo))"),
            std::string::npos)
      << missing.err;

  auto bad_json = run_chorus({"send", "--connect", address, "--to", "echo/a", "{nope"});
  EXPECT_EQ(bad_json.exit_code, 2);
  EXPECT_NE(bad_json.err.find("not valid JSON"), std::string::npos) << bad_json.err;

  worker->signal(SIGINT);
  EXPECT_EQ(worker->wait(seconds(10)), 0) << worker->err();
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(seconds(10)), 0) << host->err();
}

TEST(ServeCli, WrongTokenIsRefusedWithTheFix) {
  TempDir dir("serve-token");
  write_file(dir / "token", "abc123\n");
  std::string address;
  auto host = start_host({"--store", (dir / "runs.db").string(), "--token-file", (dir / "token").string()}, address);
  auto refused = run_process({chorus_binary().string(), "send", "--connect", address, "--to", "echo/a", "1"}, "",
                             {"CHORUS_TOKEN=wrong"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("unauthenticated: chorus host: wrong or missing token; pass --token-file FILE or set "
                             "CHORUS_TOKEN to the host's token"),
            std::string::npos)
      << refused.err;
  auto no_file = run_chorus({"send", "--connect", address, "--token-file", (dir / "absent").string(), "--to",
                             "echo/a", "1"});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_NE(no_file.err.find("token file '" + (dir / "absent").string() + "' cannot be read"), std::string::npos)
      << no_file.err;
}

TEST(ServeCli, UnreachableHostAndBusyPortAreReported) {
  TempDir dir("serve-busy");
  std::string address;
  auto host = start_host({"--store", (dir / "runs.db").string()}, address);
  auto busy = run_chorus({"serve", "--listen", address, "--store", (dir / "other.db").string()});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_NE(busy.err.find("cannot listen on '" + address + "'"), std::string::npos) << busy.err;
  host->kill();
  auto unreachable = run_chorus({"send", "--connect", address, "--to", "echo/a", "1", "--timeout", "5"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_NE(unreachable.err.find("unavailable: cannot reach the chorus host at " + address), std::string::npos)
      << unreachable.err;
}

}  // namespace
}  // namespace chorus::testing
