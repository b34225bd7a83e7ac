// bench_runtime: message round trips through the agent runtime: latency (p50/p99 in µs) and messages/s, with one
// sender and with several concurrent senders. Each case is one function returning a CaseResult; every ratio is
// against a baseline measured in this process (docs/benchmarks.md).
//
// In-process cases: LocalRuntime::send to the built-in echo agent (sender coroutines on the runtime's executor,
// sender i talks to echo/k<i>), and send_and_wait from an outside thread. Baseline: the bare Asio round trip the
// runtime is built on: co_spawn of a coroutine returning the payload onto a strand of the same io_context, awaited
// with use_awaitable (sender i uses strand i, like an agent instance's strand).
//
// Host-routed cases: the same echo round trip across processes' plumbing on loopback gRPC: an in-process
// `chorus serve` host (HostServer), a worker (LocalRuntime + WorkerLink hosting echo), and a sender whose
// LocalRuntime has no echo, so its sends go to the host and on to the worker. Ratios against LocalRuntime::send
// and against a bare gRPC bidi-stream ping-pong (the floor gRPC sets; a routed round trip is two of them).
// Also HostClient::send (the unary Send RPC) from outside threads, against LocalRuntime::send_and_wait and the
// ping-pong.
//
// Usage: bench_runtime [--messages N] [--senders S] [--threads T] [--host-only]
//   N: timed round trips per case (default 20000, plus N/10 untimed warm-up); S: concurrent senders (default 8);
//   T: runtime executor threads (default 4); --host-only: only the host-routed cases (with their baselines).
#include "benchmarks/bench-util.h"
#include "runtime/echo-agent.h"
#include "runtime/host-client.h"
#include "runtime/host-server.h"
#include "runtime/local-runtime.h"
#include "runtime/worker-link.h"

#include "chorus/v1/host.grpc.pb.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using nlohmann::json;
using namespace chorus;
using runtime::AgentId;
using runtime::LocalRuntime;

namespace {

struct CaseResult {
  std::string name;
  int senders = 0;
  double p50_us = 0;
  double p99_us = 0;
  double messages_per_s = 0;
};

// The q-quantile (0..1) of sorted samples.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t index = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(index, sorted.size() - 1)];
}

CaseResult summarize(std::string name, int senders, std::vector<std::vector<double>> per_sender, double seconds) {
  std::vector<double> all;
  for (auto& samples : per_sender) all.insert(all.end(), samples.begin(), samples.end());
  std::sort(all.begin(), all.end());
  CaseResult result;
  result.name = std::move(name);
  result.senders = senders;
  result.p50_us = quantile(all, 0.50);
  result.p99_us = quantile(all, 0.99);
  result.messages_per_s = seconds > 0 ? static_cast<double>(all.size()) / seconds : 0;
  return result;
}

const json kPayload = {{"text", "hello"}, {"n", 1}};

// Runs `senders` coroutines on `executor`; each does `per_sender` sequential awaits of round_trip(sender) and
// times every one (after `warmup` untimed ones).
template <typename RoundTrip>
CaseResult measure_coroutines(const std::string& name, asio::any_io_executor executor, int senders, int per_sender,
                              int warmup, RoundTrip round_trip) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(senders));
  std::atomic<int> warm{0};
  std::atomic<bool> go{false};
  std::atomic<int> remaining{senders};
  std::promise<void> finished;
  bench::Clock::time_point start{};
  for (int s = 0; s < senders; ++s) {
    asio::co_spawn(
        executor,
        [&, s]() -> asio::awaitable<void> {
          for (int i = 0; i < warmup; ++i) co_await round_trip(s);
          ++warm;
          while (!go) co_await round_trip(s);  // keep the others company until everyone is warm
          auto& samples = latencies[static_cast<size_t>(s)];
          samples.reserve(static_cast<size_t>(per_sender));
          for (int i = 0; i < per_sender; ++i) {
            const auto t0 = bench::Clock::now();
            co_await round_trip(s);
            samples.push_back(std::chrono::duration<double, std::micro>(bench::Clock::now() - t0).count());
          }
        },
        [&](std::exception_ptr error) {
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::exception& e) {
              std::fprintf(stderr, "%s: sender failed: %s\n", name.c_str(), e.what());
            }
          }
          if (--remaining == 0) finished.set_value();
        });
  }
  while (warm.load() < senders) std::this_thread::yield();
  start = bench::Clock::now();
  go = true;
  finished.get_future().wait();
  return summarize(name, senders, std::move(latencies), bench::seconds_since(start));
}

// Baseline: co_spawn a coroutine that returns the payload onto the sender's strand and await its result.
CaseResult bench_bare_round_trip(asio::any_io_executor executor, int senders, int per_sender, int warmup) {
  std::vector<asio::strand<asio::any_io_executor>> strands;
  for (int s = 0; s < senders; ++s) strands.push_back(asio::make_strand(executor));
  return measure_coroutines("bare co_spawn round trip", executor, senders, per_sender, warmup,
                            [&](int s) -> asio::awaitable<void> {
                              json reply = co_await asio::co_spawn(
                                  strands[static_cast<size_t>(s)],
                                  []() -> asio::awaitable<json> { co_return kPayload; }, asio::use_awaitable);
                              if (reply != kPayload) throw std::runtime_error("bare round trip: wrong reply");
                            });
}

// LocalRuntime::send to echo/k<sender> from coroutines on the runtime's executor.
CaseResult bench_local_send(LocalRuntime& runtime, int senders, int per_sender, int warmup) {
  std::vector<AgentId> targets;
  for (int s = 0; s < senders; ++s) {
    std::string key = "k";
    key.append(std::to_string(s));  // (not "k" + ...: GCC 12 gives a false -Wrestrict)
    targets.push_back(AgentId{"echo", key});
  }
  return measure_coroutines("LocalRuntime::send (echo)", runtime.executor(), senders, per_sender, warmup,
                            [&](int s) -> asio::awaitable<void> {
                              auto message = runtime::make_request(targets[static_cast<size_t>(s)], kPayload);
                              json reply = co_await runtime.send(std::move(message));
                              if (reply != kPayload) throw std::runtime_error("LocalRuntime::send: wrong reply");
                            });
}

// Runs `senders` outside threads doing blocking round trips (the CLI's way in), timing each.
template <typename RoundTrip>
CaseResult measure_threads(const std::string& name, int senders, int per_sender, int warmup, RoundTrip round_trip) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(senders));
  std::atomic<int> warm{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      for (int i = 0; i < warmup; ++i) round_trip(s);
      ++warm;
      while (!go) std::this_thread::yield();
      auto& samples = latencies[static_cast<size_t>(s)];
      for (int i = 0; i < per_sender; ++i) {
        const auto t0 = bench::Clock::now();
        round_trip(s);
        samples.push_back(std::chrono::duration<double, std::micro>(bench::Clock::now() - t0).count());
      }
    });
  while (warm.load() < senders) std::this_thread::yield();
  const auto start = bench::Clock::now();
  go = true;
  for (auto& thread : threads) thread.join();
  return summarize(name, senders, std::move(latencies), bench::seconds_since(start));
}

// Baseline for outside threads: co_spawn the payload-returning coroutine and wait on a future.
CaseResult bench_bare_blocking(asio::any_io_executor executor, int senders, int per_sender, int warmup) {
  return measure_threads("bare co_spawn + future", senders, per_sender, warmup, [&](int) {
    std::promise<json> done;
    asio::co_spawn(executor, []() -> asio::awaitable<json> { co_return kPayload; },
                   [&done](std::exception_ptr, json reply) { done.set_value(std::move(reply)); });
    if (done.get_future().get() != kPayload) throw std::runtime_error("bare blocking: wrong reply");
  });
}

// AgentRuntime::send_and_wait to echo/t<sender> from outside threads.
CaseResult bench_local_send_and_wait(LocalRuntime& runtime, int senders, int per_sender, int warmup) {
  std::vector<AgentId> targets;
  for (int s = 0; s < senders; ++s) {
    std::string key = "t";
    key.append(std::to_string(s));
    targets.push_back(AgentId{"echo", key});
  }
  return measure_threads("LocalRuntime::send_and_wait", senders, per_sender, warmup, [&](int s) {
    auto message = runtime::make_request(targets[static_cast<size_t>(s)], kPayload);
    if (runtime.send_and_wait(std::move(message)) != kPayload) throw std::runtime_error("send_and_wait: wrong reply");
  });
}

// The host-routed setup: host, worker hosting echo, and a sender runtime linked to the host.
struct HostRouted {
  std::filesystem::path store;
  std::unique_ptr<runtime::HostServer> host;
  std::unique_ptr<LocalRuntime> worker_runtime, sender_runtime;
  std::unique_ptr<runtime::WorkerLink> worker_link, sender_link;

  explicit HostRouted(int threads) {
    store = std::filesystem::temp_directory_path() / ("bench_runtime_host_" + std::to_string(getpid()) + ".db");
    runtime::HostServerOptions options;
    options.listen = "127.0.0.1:0";
    options.store_path = store.string();
    host = std::make_unique<runtime::HostServer>(options);
    worker_runtime = std::make_unique<LocalRuntime>(runtime::LocalRuntimeOptions{threads});
    worker_runtime->register_factory("echo", [](const AgentId&) { return runtime::make_echo_agent(); });
    sender_runtime = std::make_unique<LocalRuntime>(runtime::LocalRuntimeOptions{threads});
    worker_link = std::make_unique<runtime::WorkerLink>(*worker_runtime, link_options("bench-worker"));
    sender_link = std::make_unique<runtime::WorkerLink>(*sender_runtime, link_options("bench-sender"));
    worker_link->start();
    sender_link->start();
    if (!worker_link->wait_connected(std::chrono::seconds(10)) ||
        !sender_link->wait_connected(std::chrono::seconds(10)))
      throw std::runtime_error("host-routed case: the in-process worker could not connect to the host");
  }
  ~HostRouted() {
    sender_link.reset();
    worker_link.reset();
    sender_runtime.reset();
    worker_runtime.reset();
    host.reset();
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(store.string() + suffix, ignored);
  }
  runtime::WorkerLinkOptions link_options(const std::string& name) const {
    runtime::WorkerLinkOptions options;
    options.connection.address = host->address();
    options.name = name;
    options.reconnect = false;
    return options;
  }
};

// Baseline for the host-routed cases: the floor gRPC itself sets. A bare Host service whose Connect answers each
// WorkerFrame request with a HostFrame response on the same (sync API) stream, and clients doing blocking
// Write + Read ping-pongs on one stream each (one channel): one gRPC round trip, no runtime, no routing. A
// host-routed round trip is two of these (sender -> host -> worker and back), so its floor is about twice this.
struct BarePingPong final : chorus::v1::Host::Service {
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  BarePingPong() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(this);
    server = builder.BuildAndStart();
    if (!server || port == 0) throw std::runtime_error("bare gRPC ping-pong: cannot listen on loopback");
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  ~BarePingPong() override { server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500)); }
  grpc::Status Connect(grpc::ServerContext*,
                       grpc::ServerReaderWriter<chorus::v1::HostFrame, chorus::v1::WorkerFrame>* stream) override {
    chorus::v1::WorkerFrame in;
    while (stream->Read(&in)) {
      chorus::v1::HostFrame out;
      auto* response = out.mutable_response();
      response->set_request_id(in.request().id());
      response->set_reply_json(in.request().json());
      if (!stream->Write(out)) break;
    }
    return grpc::Status::OK;
  }
};

CaseResult bench_bare_grpc_ping_pong(BarePingPong& bare, int senders, int per_sender, int warmup) {
  auto stub = chorus::v1::Host::NewStub(bare.channel);
  struct Session {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<chorus::v1::WorkerFrame, chorus::v1::HostFrame>> stream;
  };
  std::vector<std::unique_ptr<Session>> sessions;
  for (int s = 0; s < senders; ++s) {
    auto session = std::make_unique<Session>();
    session->stream = stub->Connect(&session->context);
    sessions.push_back(std::move(session));
  }
  const std::string payload = kPayload.dump();
  auto result = measure_threads("bare gRPC bidi ping-pong", senders, per_sender, warmup, [&](int s) {
    auto& stream = *sessions[static_cast<size_t>(s)]->stream;
    chorus::v1::WorkerFrame out;
    out.mutable_request()->set_id("m");
    out.mutable_request()->set_json(payload);
    chorus::v1::HostFrame in;
    if (!stream.Write(out) || !stream.Read(&in) || in.response().reply_json() != payload)
      throw std::runtime_error("bare gRPC ping-pong: the stream broke");
  });
  for (auto& session : sessions) {
    session->stream->WritesDone();
    (void)session->stream->Finish();
  }
  return result;
}

// LocalRuntime::send from the sender's runtime: routed through the host to the worker's echo/h<sender>.
CaseResult bench_host_routed_send(HostRouted& setup, int senders, int per_sender, int warmup) {
  std::vector<AgentId> targets;
  for (int s = 0; s < senders; ++s) {
    std::string key = "h";
    key.append(std::to_string(s));
    targets.push_back(AgentId{"echo", key});
  }
  LocalRuntime& sender = *setup.sender_runtime;
  return measure_coroutines("host-routed send (gRPC)", sender.executor(), senders, per_sender, warmup,
                            [&](int s) -> asio::awaitable<void> {
                              auto message = runtime::make_request(targets[static_cast<size_t>(s)], kPayload);
                              json reply = co_await sender.send(std::move(message));
                              if (reply != kPayload) throw std::runtime_error("host-routed send: wrong reply");
                            });
}

// HostClient::send (one unary RPC per message) from outside threads, one client per thread.
CaseResult bench_host_client_send(HostRouted& setup, int senders, int per_sender, int warmup) {
  std::vector<std::unique_ptr<runtime::HostClient>> clients;
  std::vector<AgentId> targets;
  for (int s = 0; s < senders; ++s) {
    clients.push_back(std::make_unique<runtime::HostClient>(runtime::HostConnection{setup.host->address(), "", ""}));
    std::string key = "c";
    key.append(std::to_string(s));
    targets.push_back(AgentId{"echo", key});
  }
  return measure_threads("HostClient::send (gRPC)", senders, per_sender, warmup, [&](int s) {
    auto message = runtime::make_request(targets[static_cast<size_t>(s)], kPayload);
    if (clients[static_cast<size_t>(s)]->send(message) != kPayload)
      throw std::runtime_error("HostClient::send: wrong reply");
  });
}

void print_header() {
  std::printf("%-30s %7s %10s %10s %12s\n", "case", "senders", "p50 us", "p99 us", "msgs/s");
}

void print_result(const CaseResult& r) {
  std::printf("%-30s %7d %10.1f %10.1f %12.0f\n", r.name.c_str(), r.senders, r.p50_us, r.p99_us, r.messages_per_s);
}

// "ratio vs baseline": latency ratios (lower is better) and the throughput ratio (higher is better).
void print_ratio(const CaseResult& measured, const CaseResult& baseline) {
  std::printf("  ratio vs %s: p50 %.2fx, p99 %.2fx, throughput %.2fx\n", baseline.name.c_str(),
              baseline.p50_us > 0 ? measured.p50_us / baseline.p50_us : 0,
              baseline.p99_us > 0 ? measured.p99_us / baseline.p99_us : 0,
              baseline.messages_per_s > 0 ? measured.messages_per_s / baseline.messages_per_s : 0);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int messages = std::stoi(bench::arg_value(argc, argv, "messages", "20000"));
    const int senders = std::stoi(bench::arg_value(argc, argv, "senders", "8"));
    const int threads = std::stoi(bench::arg_value(argc, argv, "threads", "4"));
    if (messages < 1 || senders < 1 || threads < 1)
      throw std::invalid_argument("--messages, --senders and --threads must be at least 1");
    const int warmup = std::max(1, messages / 10);
    const bool host_only = bench::has_flag(argc, argv, "host-only");

    LocalRuntime runtime(runtime::LocalRuntimeOptions{threads});
    runtime.register_factory("echo", [](const AgentId&) { return runtime::make_echo_agent(); });

    std::printf("bench_runtime: %d timed round trips per case, %d executor threads, %u hardware threads, "
                "load average %.2f\n\n",
                messages, threads, std::thread::hardware_concurrency(), bench::load_average());
    print_header();
    for (int n : {1, senders}) {
      if (host_only) break;
      const int per_sender = std::max(1, messages / n);
      const int warm = std::max(1, warmup / n);
      const auto bare = bench_bare_round_trip(runtime.executor(), n, per_sender, warm);
      const auto local = bench_local_send(runtime, n, per_sender, warm);
      print_result(bare);
      print_result(local);
      print_ratio(local, bare);
      const auto bare_blocking = bench_bare_blocking(runtime.executor(), n, per_sender, warm);
      const auto local_blocking = bench_local_send_and_wait(runtime, n, per_sender, warm);
      print_result(bare_blocking);
      print_result(local_blocking);
      print_ratio(local_blocking, bare_blocking);
      std::printf("\n");
    }
    {
      // Loopback gRPC round trips are far slower than in-process ones: a tenth of the messages.
      HostRouted setup(threads);
      BarePingPong bare_grpc;
      for (int n : {1, senders}) {
        const int per_sender = std::max(1, messages / 10 / n);
        const int warm = std::max(1, warmup / 10 / n);
        const auto ping_pong = bench_bare_grpc_ping_pong(bare_grpc, n, per_sender, warm);
        print_result(ping_pong);
        const auto local = bench_local_send(runtime, n, per_sender, warm);
        const auto routed = bench_host_routed_send(setup, n, per_sender, warm);
        print_result(local);
        print_result(routed);
        print_ratio(routed, local);
        print_ratio(routed, ping_pong);
        const auto local_blocking = bench_local_send_and_wait(runtime, n, per_sender, warm);
        const auto client = bench_host_client_send(setup, n, per_sender, warm);
        print_result(local_blocking);
        print_result(client);
        print_ratio(client, local_blocking);
        print_ratio(client, ping_pong);
        std::printf("\n");
      }
    }
    std::printf("load average after: %.2f\n", bench::load_average());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_runtime: %s\n", e.what());
    return 1;
  }
}
