#pragma once
// HostServer: `chorus serve`: accepts worker and client connections over gRPC, routes messages between them,
// answers workers' journal requests from its RunStore and runs workflows whose agents the workers host.
#include "runtime/host-router.h"

#include <functional>
#include <memory>
#include <string>

namespace chorus::runtime {

struct HostServerOptions {
  std::string listen = "127.0.0.1:7070";  // host:port (port 0 picks a free one) or unix:/path
  std::string store_path = "runs.db";
  std::string token;                        // empty: no authentication
  std::string tls_cert_file, tls_key_file;  // PEM; both empty: plaintext
  WorkerLossPolicy on_worker_loss = WorkerLossPolicy::retry;
  int runtime_threads = 8;
  std::function<void(const std::string&)> log;  // connection events (workers connecting, leaving); may be empty
};

class HostServer {
 public:
  // Opens the store and starts listening; throws std::runtime_error naming the address, file or fix.
  explicit HostServer(HostServerOptions options);
  ~HostServer();  // shutdown()
  HostServer(const HostServer&) = delete;
  HostServer& operator=(const HostServer&) = delete;

  // The address actually listened on (with the chosen port when port 0 was asked for).
  const std::string& address() const;
  // Stops accepting, ends the connections (their in-flight requests fail with unavailable); idempotent.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when `address` is loopback (127.x, localhost, [::1]) or a unix socket.
bool is_loopback_address(const std::string& address);

}  // namespace chorus::runtime
