#pragma once
// HostRouter: the host's routing table: which connected worker hosts which agent types, sticky instance
// placement, in-flight requests (with retry or failure when a worker is lost) and publication fan-out.
#include "runtime/subscription.h"

#include "chorus/v1/host.pb.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chorus::runtime {

// What happens to a lost worker's in-flight requests.
enum class WorkerLossPolicy { retry, fail };

// One connected worker (or client) as the router sees it.
struct RouterPeer {
  std::string name;
  std::vector<std::string> agent_types;
  std::vector<Subscription> subscriptions;
  std::function<bool(v1::HostFrame)> send;  // queues a frame to the peer; false when its stream is gone
};

// Receives the one response of a routed request.
using ResponseCallback = std::function<void(const v1::Response&)>;

// A peer id; kNoPeer stands for the host itself or a unary client call.
using PeerId = std::uint64_t;
inline constexpr PeerId kNoPeer = 0;

class HostRouter {
 public:
  explicit HostRouter(WorkerLossPolicy policy);
  ~HostRouter();
  HostRouter(const HostRouter&) = delete;
  HostRouter& operator=(const HostRouter&) = delete;

  // Adds a connected peer and returns its id.
  PeerId attach(RouterPeer peer);
  // Removes a peer: its in-flight requests are re-sent or failed (policy), requests it sent are cancelled.
  void detach(PeerId peer);
  // Routes a direct message to a worker hosting its type; `on_response` is called exactly once.
  void route(const v1::Envelope& request, PeerId origin, ResponseCallback on_response);
  // A response frame from `peer` to a request the host delivered to it.
  void complete(PeerId peer, const v1::Response& response);
  // The origin of request `request_id` gave up: the worker handling it is told to cancel it.
  void cancel(const std::string& request_id);
  // Sends a publication to every peer with a matching subscription, except `origin`.
  void publish(const v1::Envelope& publication, PeerId origin);
  // Fails every in-flight request with unavailable (host shutting down).
  void fail_all(const std::string& reason);
  // "w1 (echo, sleep), w2 (echo)" or "none".
  std::string describe_peers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::runtime
