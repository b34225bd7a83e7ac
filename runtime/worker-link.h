#pragma once
// WorkerLink: a worker process's connection to the host. It registers the LocalRuntime's agent types and
// subscriptions, delivers the host's requests and publications to local agents, routes what the runtime cannot
// deliver locally through the host (RemoteRouter), proxies effect journals to the host's run store, and
// reconnects with exponential backoff (0.2 s doubling to 5 s) when the host goes away.
#include "runtime/agent-error.h"
#include "runtime/host-client.h"
#include "runtime/local-runtime.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace chorus::runtime {

struct WorkerLinkOptions {
  HostConnection connection;
  std::string name;        // how the host names this worker in messages; empty: "<hostname>-<pid>"
  bool reconnect = true;   // reconnect when the host goes away (a refused token always stops the link)
  std::function<void(const std::string&)> log;  // "connected to ADDR as NAME hosting: a, b", losses; may be empty
};

class WorkerLink {
 public:
  // Installs the link as `runtime`'s remote router and journal provider; `runtime` must outlive the link.
  WorkerLink(LocalRuntime& runtime, WorkerLinkOptions options);
  ~WorkerLink();  // stop()
  WorkerLink(const WorkerLink&) = delete;
  WorkerLink& operator=(const WorkerLink&) = delete;

  // Starts connecting on a background thread (register agent types and subscriptions first).
  void start();
  // Waits until registered with the host; false after `timeout` or when the link stopped for good.
  bool wait_connected(std::chrono::milliseconds timeout);
  // True while registered with the host.
  bool connected() const;
  // Why the link stopped for good (the host refused the token), if it did.
  std::optional<AgentError> fatal_error() const;
  // Waits until the link stopped for good (fatal error, or no reconnect after a loss); false on timeout.
  bool wait_stopped(std::chrono::milliseconds timeout);
  // Disconnects and stops reconnecting; in-flight requests to the host fail with unavailable. Idempotent.
  void stop();
  // The name the link registers with.
  const std::string& name() const;

  struct State;  // the connection's shared state (internal; shared with the runtime's router and journals)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace chorus::runtime
