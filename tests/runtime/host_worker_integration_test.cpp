// Agents across processes: a real `chorus serve` host, `chorus worker` subprocesses and in-process worker links
// (LocalRuntime + WorkerLink) over gRPC on loopback; HostClient as the client.
#include "runtime/agent-error.h"
#include "runtime/effect-journal.h"
#include "runtime/host-client.h"
#include "runtime/local-runtime.h"
#include "runtime/run-store.h"
#include "runtime/task-message.h"
#include "runtime/worker-link.h"
#include "tests/support/child-process.h"
#include "tests/support/temp-dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace chorus::runtime {
namespace {

using chorus::testing::ChildProcess;
using chorus::testing::start_host;
using chorus::testing::start_worker;
using chorus::testing::TempDir;
using chorus::testing::write_file;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// An agent from a lambda.
class FnAgent final : public Agent {
 public:
  using Fn = std::function<boost::asio::awaitable<json>(const Message&, AgentContext&)>;
  explicit FnAgent(Fn fn) : fn_(std::move(fn)) {}
  boost::asio::awaitable<json> on_message(const Message& m, AgentContext& c) override { co_return co_await fn_(m, c); }

 private:
  Fn fn_;
};

AgentFactory factory(FnAgent::Fn fn) {
  return [fn](const AgentId&) { return std::make_unique<FnAgent>(fn); };
}

// {key: value} (built outside coroutine lambdas: GCC 12 miscompiles braced JSON inside them).
json obj(const std::string& key, json value) {
  json out = json::object();
  out[key] = std::move(value);
  return out;
}

// The custom counting agent's reply: performs (once per run, through the journal) a counted effect.
json count_reply(AgentContext& ctx, const std::string& description, std::atomic<int>& performed) {
  json result = run_once(ctx.journal(), ctx.next_effect_key("tool"), "tool", json{{"q", description}},
                         [&] { return json(++performed); });
  TaskReply reply;
  reply.output = json{{"count", result}, {"journaled", ctx.journal() != nullptr}};
  return reply.to_json();
}

json send_to(HostClient& client, const std::string& to, json payload) {
  return client.send(make_request(AgentId::parse(to), std::move(payload)));
}

AgentError send_error(HostClient& client, const std::string& to, json payload) {
  try {
    send_to(client, to, std::move(payload));
  } catch (const AgentError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error from " << to;
  return AgentError(StatusCode::ok, "");
}

class HostWorkerTest : public ::testing::Test {
 protected:
  TempDir dir{"host"};
  std::string address;
  std::unique_ptr<ChildProcess> host;

  void start(const std::vector<std::string>& args = {}, const std::vector<std::string>& env = {}) {
    std::vector<std::string> all = {"--store", (dir / "runs.db").string()};
    all.insert(all.end(), args.begin(), args.end());
    host = start_host(all, address, env);
  }
  WorkerLinkOptions link_options(const std::string& name) {
    WorkerLinkOptions options;
    options.connection.address = address;
    options.name = name;
    return options;
  }
  HostClient client(const std::string& token = "") { return HostClient(HostConnection{address, token, ""}); }
};

TEST_F(HostWorkerTest, RoutesToWorkersBalancedAndSticky) {
  start();
  auto a = start_worker(address, {"--agents", "echo,sleep", "--name", "wa"});
  auto b = start_worker(address, {"--agents", "echo,sleep", "--name", "wb"});
  auto c = client();
  EXPECT_EQ(send_to(c, "echo/x", json{{"hello", 1}}), json({{"hello", 1}}));
  std::map<std::string, std::string> placed;
  std::set<std::string> workers;
  for (int i = 0; i < 6; ++i) {
    std::string key = "k" + std::to_string(i);
    auto reply = send_to(c, "sleep/" + key, json{{"ms", 0}});
    placed[key] = reply["worker"];
    workers.insert(reply["worker"].get<std::string>());
  }
  EXPECT_EQ(workers, (std::set<std::string>{"wa", "wb"}));
  for (int round = 0; round < 3; ++round)
    for (const auto& [key, worker] : placed)
      EXPECT_EQ(send_to(c, "sleep/" + key, json{{"ms", 0}})["worker"], worker) << key << " moved";
}

TEST_F(HostWorkerTest, NoWorkerForTheTypeIsNotFound) {
  start();
  auto a = start_worker(address, {"--agents", "echo", "--name", "wa"});
  auto c = client();
  auto error = send_error(c, "nobody/k", json::object());
  EXPECT_EQ(error.code(), StatusCode::not_found);
  EXPECT_NE(std::string(error.what()).find("no worker hosts agent type 'nobody' (connected workers: wa (echo))"),
            std::string::npos)
      << error.what();
}

TEST_F(HostWorkerTest, InProcessWorkersRouteAcrossWorkersAndPublish) {
  start();
  LocalRuntime rt1, rt2;
  std::mutex mutex;
  std::vector<json> heard;
  rt1.register_factory("caller", factory([](const Message& m, AgentContext& ctx) -> boost::asio::awaitable<json> {
    json sum = co_await ctx.send(AgentId::parse("adder/main"), m.payload);
    co_await ctx.publish(TopicId::parse("news/caller"), obj("sum", sum));
    co_return obj("sum_from_other_worker", sum);
  }));
  rt2.register_factory("adder", factory([](const Message& m, AgentContext&) -> boost::asio::awaitable<json> {
    co_return m.payload["a"].get<int>() + m.payload["b"].get<int>();
  }));
  rt2.register_factory("listener", factory([&](const Message& m, AgentContext&) -> boost::asio::awaitable<json> {
    std::lock_guard lock(mutex);
    heard.push_back(m.payload);
    co_return nullptr;
  }));
  rt2.add_subscription(Subscription{"news", "listener", false});
  WorkerLink link1(rt1, link_options("one"));
  WorkerLink link2(rt2, link_options("two"));
  link1.start();
  link2.start();
  ASSERT_TRUE(link1.wait_connected(seconds(10)));
  ASSERT_TRUE(link2.wait_connected(seconds(10)));

  auto c = client();
  EXPECT_EQ(send_to(c, "caller/x", json{{"a", 2}, {"b", 3}}), json({{"sum_from_other_worker", 5}}));
  // A worker's own runtime reaches the other worker's agents through the host too.
  EXPECT_EQ(rt2.send_and_wait(make_request(AgentId{"caller", "y"}, json{{"a", 1}, {"b", 1}})),
            json({{"sum_from_other_worker", 2}}));
  auto until = std::chrono::steady_clock::now() + seconds(10);
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (heard.size() >= 2) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the publication did not reach the other worker";
    std::this_thread::sleep_for(milliseconds(20));
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard[0], json({{"sum", 5}}));
}

TEST_F(HostWorkerTest, LostWorkerFailsItsRequestsUnderPolicyFail) {
  start({"--on-worker-loss", "fail"});
  auto a = start_worker(address, {"--agents", "sleep", "--name", "wa"});
  auto c = client();
  auto pending = std::async(std::launch::async, [&] { return send_error(c, "sleep/k", json{{"ms", 20000}}); });
  std::this_thread::sleep_for(milliseconds(700));
  a->signal(SIGKILL);
  ASSERT_EQ(pending.wait_for(seconds(10)), std::future_status::ready);
  auto error = pending.get();
  EXPECT_EQ(error.code(), StatusCode::unavailable);
  std::string text = error.what();
  EXPECT_NE(text.find("worker wa (hosting sleep) disconnected while handling message "), std::string::npos) << text;
  EXPECT_NE(text.find("; no other worker hosts sleep"), std::string::npos) << text;
}

TEST_F(HostWorkerTest, PolicyFailDoesNotResendEvenWithAnotherWorker) {
  start({"--on-worker-loss", "fail"});
  auto a = start_worker(address, {"--agents", "sleep", "--name", "wa"});
  auto b = start_worker(address, {"--agents", "sleep", "--name", "wb"});
  auto c = client();
  std::string owner = send_to(c, "sleep/k", json{{"ms", 0}})["worker"];
  auto pending = std::async(std::launch::async, [&] { return send_error(c, "sleep/k", json{{"ms", 20000}}); });
  std::this_thread::sleep_for(milliseconds(700));
  (owner == "wa" ? a : b)->signal(SIGKILL);
  ASSERT_EQ(pending.wait_for(seconds(10)), std::future_status::ready);
  auto error = pending.get();
  EXPECT_EQ(error.code(), StatusCode::unavailable);
  EXPECT_NE(std::string(error.what()).find("--on-worker-loss fail"), std::string::npos) << error.what();
}

TEST_F(HostWorkerTest, LostWorkerRequestIsResentToAnotherWorker) {
  start();
  auto a = start_worker(address, {"--agents", "sleep", "--name", "wa"});
  auto b = start_worker(address, {"--agents", "sleep", "--name", "wb"});
  auto c = client();
  std::string owner = send_to(c, "sleep/k", json{{"ms", 0}})["worker"];
  auto pending = std::async(std::launch::async, [&] { return send_to(c, "sleep/k", json{{"ms", 1500}}); });
  std::this_thread::sleep_for(milliseconds(500));
  (owner == "wa" ? a : b)->signal(SIGKILL);
  ASSERT_EQ(pending.wait_for(seconds(15)), std::future_status::ready);
  json reply = pending.get();
  EXPECT_NE(reply["worker"], owner);
  EXPECT_EQ(reply["slept_ms"], 1500);
  // The sticky binding moved with it.
  EXPECT_EQ(send_to(c, "sleep/k", json{{"ms", 0}})["worker"], reply["worker"]);
}

TEST_F(HostWorkerTest, WorkerReconnectsAfterTheHostRestarts) {
  start();
  auto a = start_worker(address, {"--agents", "echo", "--name", "wa"});
  auto c = client();
  EXPECT_EQ(send_to(c, "echo/x", json{{"n", 1}}), json({{"n", 1}}));
  host->kill();
  EXPECT_TRUE(a->wait_for_line("lost the connection", seconds(10)));
  auto lost = send_error(c, "echo/x", json{{"n", 2}});
  EXPECT_EQ(lost.code(), StatusCode::unavailable);
  std::this_thread::sleep_for(milliseconds(1200));  // the worker backs off meanwhile
  host = testing::start_chorus({"serve", "--listen", address, "--store", (dir / "runs.db").string()});
  ASSERT_TRUE(host->wait_for_line("chorus host listening on " + address, seconds(20))) << host->err();
  ASSERT_TRUE(a->wait_for_line("connected to " + address + " as wa hosting: echo", seconds(15), 2)) << a->err();
  auto fresh = client();
  EXPECT_EQ(send_to(fresh, "echo/x", json{{"n", 3}}), json({{"n", 3}}));
  a->signal(SIGTERM);
  EXPECT_EQ(a->wait(seconds(10)), 0) << a->err();
}

TEST_F(HostWorkerTest, WrongTokenIsRefusedForWorkersAndClients) {
  write_file(dir / "token", "s3cret\n");
  start({"--token-file", (dir / "token").string()});
  const std::string refused =
      "chorus host: wrong or missing token; pass --token-file FILE or set CHORUS_TOKEN to the host's token";
  auto bad = testing::start_chorus({"worker", "--connect", address, "--agents", "echo"}, {"CHORUS_TOKEN=wrong"});
  ASSERT_TRUE(bad->wait(seconds(15)).has_value()) << "a refused worker must exit, not retry";
  EXPECT_NE(bad->wait(seconds(0)), 0);
  EXPECT_NE(bad->err().find(refused), std::string::npos) << bad->err();
  auto missing = testing::start_chorus({"worker", "--connect", address, "--agents", "echo"}, {"CHORUS_TOKEN="});
  ASSERT_TRUE(missing->wait(seconds(15)).has_value());
  EXPECT_NE(missing->err().find(refused), std::string::npos) << missing->err();

  auto good = start_worker(address, {"--agents", "echo", "--token-file", (dir / "token").string()});
  auto wrong = client("nope");
  auto error = send_error(wrong, "echo/x", json(1));
  EXPECT_EQ(error.code(), StatusCode::unauthenticated);
  EXPECT_EQ(std::string(error.what()), refused);
  auto right = client("s3cret");
  EXPECT_EQ(send_to(right, "echo/x", json(7)), json(7));
}

TEST_F(HostWorkerTest, TlsWithASelfSignedCertificate) {
  if (std::system("which openssl > /dev/null 2>&1") != 0) GTEST_SKIP() << "openssl CLI not installed";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                    (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() +
                    " -addext subjectAltName=IP:127.0.0.1,DNS:localhost > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  start({"--tls-cert", (dir / "cert.pem").string(), "--tls-key", (dir / "key.pem").string()});
  auto a = start_worker(address, {"--agents", "echo", "--tls-ca", (dir / "cert.pem").string()});
  HostClient secure(HostConnection{address, "", (dir / "cert.pem").string()});
  EXPECT_EQ(send_to(secure, "echo/x", json{{"tls", true}}), json({{"tls", true}}));
  auto plain = client();
  EXPECT_EQ(send_error(plain, "echo/x", json(1)).code(), StatusCode::unavailable);
}

TEST_F(HostWorkerTest, RunsAWorkflowWhoseAgentsLiveOnWorkers) {
  start();
  const std::string yaml = R"(
name: hello
inputs:
  name: {default: world}
agents:
  greeter: {kind: echo}
  counter: {kind: custom}
tasks:
  greet: {description: "Hello, {name}!", agent: greeter}
  count: {description: "Count for {name}", agent: counter}
)";
  // This worker's file defines only the agent it hosts (it does not know the custom kind).
  write_file(dir / "greeter.yaml", "name: greeter\nagents:\n  greeter: {kind: echo}\n"
                                   "tasks:\n  greet: {description: hi, agent: greeter}\n");
  auto a = start_worker(address, {"--workflow", (dir / "greeter.yaml").string(), "--agents", "greeter"});
  // The custom agent records an effect through the worker's journal proxy.
  LocalRuntime rt;
  std::atomic<int> performed{0};
  rt.register_factory("counter", factory([&](const Message& m, AgentContext& ctx) -> boost::asio::awaitable<json> {
    auto request = TaskRequest::from_json(m.payload);
    co_return count_reply(ctx, request.description, performed);
  }));
  WorkerLink link(rt, link_options("custom"));
  link.start();
  ASSERT_TRUE(link.wait_connected(seconds(10)));

  auto c = client();
  std::vector<RunEvent> events;
  RunRecord run = c.start_run(yaml, "hello.yaml", json{{"name", "Ada"}}, [&](const RunEvent& e) { events.push_back(e); });
  ASSERT_EQ(run.state, "done") << run.error;
  EXPECT_EQ(run.outputs["greet"]["description"], "Hello, Ada!");
  EXPECT_EQ(run.outputs["count"], json({{"count", 1}, {"journaled", true}}));
  bool saw_tool_call = false, saw_finish = false;
  for (const auto& e : events) {
    saw_tool_call |= e.type == "tool_call";
    saw_finish |= e.type == "run_finished";
  }
  EXPECT_TRUE(saw_tool_call) << "the worker's journal record must reach the run's stream";
  EXPECT_TRUE(saw_finish);
  {
    RunStore store((dir / "runs.db").string());
    EXPECT_EQ(store.list_effects(run.id).size(), 1u);
  }
  // A replay reads the effect from the recording instead of performing it again.
  RunRecord replay = c.replay_run(run.id);
  EXPECT_EQ(replay.state, "done") << replay.error;
  EXPECT_EQ(replay.replay_of, run.id);
  EXPECT_EQ(performed.load(), 1);
  // Unknown runs are reported, not crashed on.
  try {
    c.resume_run("no-such-run");
    FAIL() << "expected an error";
  } catch (const AgentError& e) {
    EXPECT_EQ(e.code(), StatusCode::not_found) << e.what();
  }
}

}  // namespace
}  // namespace chorus::runtime
