#include "runtime/host-router.h"

#include "runtime/agent-error.h"
#include "tools/text-util.h"
#include "runtime/envelope.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>

namespace chorus::runtime {
namespace {

struct PeerState {
  RouterPeer peer;
  std::set<std::string> types;
  int in_flight = 0;
  int bound_instances = 0;  // sticky agent instances placed here
};

struct Pending {
  v1::Envelope request;
  PeerId origin = kNoPeer;
  PeerId target = kNoPeer;
  ResponseCallback on_response;
  bool retried = false;
};

using tools::join;

}  // namespace

struct HostRouter::Impl {
  WorkerLossPolicy policy;
  mutable std::mutex mutex;
  PeerId next_id = 1;
  std::map<PeerId, PeerState> peers;
  std::map<std::string, PeerId> sticky;  // "type/key" -> peer
  std::map<std::string, Pending> pending;  // request id -> request

  std::string describe_locked() const {
    std::vector<std::string> items;
    for (const auto& [id, state] : peers)
      if (!state.types.empty()) items.push_back(state.peer.name + " (" + join(state.peer.agent_types) + ")");
    return items.empty() ? "none" : join(items);
  }

  // The peer for `recipient` (sticky when bound, else least loaded), excluding `excluded`; kNoPeer when none.
  PeerId choose_locked(const v1::AgentId& recipient, PeerId excluded) {
    std::string instance = recipient.type() + "/" + recipient.key();
    auto bound = sticky.find(instance);
    if (bound != sticky.end() && bound->second != excluded && peers.count(bound->second)) return bound->second;
    PeerId best = kNoPeer;
    std::tuple<int, int, PeerId> best_rank{};
    for (const auto& [id, state] : peers) {
      if (id == excluded || !state.types.count(recipient.type())) continue;
      std::tuple<int, int, PeerId> rank{state.in_flight, state.bound_instances, id};
      if (best == kNoPeer || rank < best_rank) {
        best = id;
        best_rank = rank;
      }
    }
    if (best != kNoPeer) {
      if (bound != sticky.end()) {
        auto old = peers.find(bound->second);
        if (old != peers.end()) --old->second.bound_instances;
        bound->second = best;
      } else {
        sticky.emplace(instance, best);
      }
      ++peers[best].bound_instances;
    }
    return best;
  }

  // Sends pending request `id` to `target` (with the mutex held); returns the frame sender to call unlocked.
  std::function<bool(v1::HostFrame)> dispatch_locked(Pending& entry, PeerId target) {
    entry.target = target;
    auto& state = peers[target];
    ++state.in_flight;
    return state.peer.send;
  }

  void release_locked(const Pending& entry) {
    auto it = peers.find(entry.target);
    if (it != peers.end() && it->second.in_flight > 0) --it->second.in_flight;
  }
};

HostRouter::HostRouter(WorkerLossPolicy policy) : impl_(std::make_unique<Impl>()) { impl_->policy = policy; }
HostRouter::~HostRouter() = default;

PeerId HostRouter::attach(RouterPeer peer) {
  std::lock_guard lock(impl_->mutex);
  PeerId id = impl_->next_id++;
  PeerState state;
  state.types.insert(peer.agent_types.begin(), peer.agent_types.end());
  state.peer = std::move(peer);
  impl_->peers.emplace(id, std::move(state));
  return id;
}

void HostRouter::detach(PeerId peer) {
  struct Action {
    ResponseCallback fail;
    v1::Response response;
    std::function<bool(v1::HostFrame)> send;
    v1::HostFrame frame;
  };
  std::vector<Action> actions;
  std::vector<Action> resend_failures;
  {
    std::lock_guard lock(impl_->mutex);
    auto dead = impl_->peers.find(peer);
    if (dead == impl_->peers.end()) return;
    std::string name = dead->second.peer.name;
    impl_->peers.erase(dead);
    for (auto it = impl_->sticky.begin(); it != impl_->sticky.end();)
      it = it->second == peer ? impl_->sticky.erase(it) : std::next(it);
    for (auto it = impl_->pending.begin(); it != impl_->pending.end();) {
      Pending& entry = it->second;
      if (entry.origin == peer) {  // its sender is gone: tell the handling worker to stop
        impl_->release_locked(entry);
        auto target = impl_->peers.find(entry.target);
        if (target != impl_->peers.end()) {
          Action action;
          action.send = target->second.peer.send;
          action.frame.mutable_cancel()->set_message_id(it->first);
          actions.push_back(std::move(action));
        }
        it = impl_->pending.erase(it);
        continue;
      }
      if (entry.target != peer) {
        ++it;
        continue;
      }
      const std::string& type = entry.request.recipient().type();
      std::string lost = "worker " + name + " (hosting " + type + ") disconnected while handling message " + it->first;
      bool others = false;
      for (const auto& [id, state] : impl_->peers) others |= state.types.count(type) > 0;
      PeerId other = kNoPeer;
      if (impl_->policy == WorkerLossPolicy::retry && !entry.retried && others)
        other = impl_->choose_locked(entry.request.recipient(), peer);
      if (other != kNoPeer) {
        entry.retried = true;
        Action action;
        action.send = impl_->dispatch_locked(entry, other);
        *action.frame.mutable_request() = entry.request;
        action.fail = entry.on_response;  // used if the resend cannot be queued
        action.response = make_error_response(it->first, StatusCode::unavailable, lost + "; resending failed");
        resend_failures.push_back(std::move(action));
        ++it;
        continue;
      }
      std::string why;
      if (!others)
        why = lost + "; no other worker hosts " + type;
      else if (impl_->policy == WorkerLossPolicy::fail)
        why = lost + "; not re-sent (host policy --on-worker-loss fail)";
      else
        why = lost + "; already re-sent once after an earlier worker loss";
      Action action;
      action.fail = entry.on_response;
      action.response = make_error_response(it->first, StatusCode::unavailable, why);
      actions.push_back(std::move(action));
      it = impl_->pending.erase(it);
    }
  }
  for (auto& action : actions) {
    if (action.fail) action.fail(action.response);
    if (action.send) action.send(std::move(action.frame));
  }
  for (auto& action : resend_failures) {
    if (action.send(action.frame)) continue;
    {
      std::lock_guard lock(impl_->mutex);
      auto it = impl_->pending.find(action.response.request_id());
      if (it == impl_->pending.end()) continue;
      impl_->release_locked(it->second);
      impl_->pending.erase(it);
    }
    action.fail(action.response);
  }
}

void HostRouter::route(const v1::Envelope& request, PeerId origin, ResponseCallback on_response) {
  if (!request.has_recipient()) {
    on_response(make_error_response(request.id(), StatusCode::invalid_argument,
                                    "message " + request.id() + " has no recipient (a publication cannot be sent)"));
    return;
  }
  std::function<bool(v1::HostFrame)> send;
  std::optional<v1::Response> immediate;
  {
    std::lock_guard lock(impl_->mutex);
    const std::string& type = request.recipient().type();
    PeerId target = kNoPeer;
    if (impl_->pending.count(request.id()))
      immediate = make_error_response(request.id(), StatusCode::invalid_argument,
                                      "message id " + request.id() + " is already in flight; use a fresh id");
    else
      target = impl_->choose_locked(request.recipient(), kNoPeer);
    if (immediate) {
    } else if (target == kNoPeer) {
      immediate = make_error_response(request.id(), StatusCode::not_found,
                                      "no worker hosts agent type '" + type +
                                          "' (connected workers: " + impl_->describe_locked() + ")");
    } else {
      Pending entry;
      entry.request = request;
      entry.origin = origin;
      entry.on_response = std::move(on_response);
      send = impl_->dispatch_locked(entry, target);
      impl_->pending.emplace(request.id(), std::move(entry));
    }
  }
  if (immediate) {
    on_response(*immediate);
    return;
  }
  v1::HostFrame frame;
  *frame.mutable_request() = request;
  if (send(std::move(frame))) return;
  // The worker's stream broke between choosing and sending: its detach will handle the request.
}

void HostRouter::complete(PeerId peer, const v1::Response& response) {
  ResponseCallback callback;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->pending.find(response.request_id());
    if (it == impl_->pending.end() || it->second.target != peer) return;  // late reply of a re-sent request
    impl_->release_locked(it->second);
    callback = std::move(it->second.on_response);
    impl_->pending.erase(it);
  }
  callback(response);
}

void HostRouter::cancel(const std::string& request_id) {
  std::function<bool(v1::HostFrame)> send;
  ResponseCallback callback;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->pending.find(request_id);
    if (it == impl_->pending.end()) return;
    auto target = impl_->peers.find(it->second.target);
    if (target != impl_->peers.end()) send = target->second.peer.send;
    impl_->release_locked(it->second);
    callback = std::move(it->second.on_response);
    impl_->pending.erase(it);
  }
  if (send) {
    v1::HostFrame frame;
    frame.mutable_cancel()->set_message_id(request_id);
    send(std::move(frame));
  }
  callback(make_error_response(request_id, StatusCode::cancelled, "message " + request_id + " was cancelled"));
}

void HostRouter::publish(const v1::Envelope& publication, PeerId origin) {
  TopicId topic;
  try {
    topic = TopicId::parse(publication.topic());
  } catch (const std::exception&) {
    return;
  }
  std::vector<std::function<bool(v1::HostFrame)>> targets;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [id, state] : impl_->peers) {
      if (id == origin) continue;
      bool matches = std::any_of(state.peer.subscriptions.begin(), state.peer.subscriptions.end(),
                                 [&](const Subscription& s) { return s.recipient_for(topic).has_value(); });
      if (matches) targets.push_back(state.peer.send);
    }
  }
  for (auto& send : targets) {
    v1::HostFrame frame;
    *frame.mutable_publication() = publication;
    send(std::move(frame));
  }
}

void HostRouter::fail_all(const std::string& reason) {
  std::vector<std::pair<std::string, ResponseCallback>> failed;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, entry] : impl_->pending) failed.emplace_back(id, std::move(entry.on_response));
    impl_->pending.clear();
    for (auto& [id, state] : impl_->peers) state.in_flight = 0;
  }
  for (auto& [id, callback] : failed) callback(make_error_response(id, StatusCode::unavailable, reason));
}

std::string HostRouter::describe_peers() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->describe_locked();
}

}  // namespace chorus::runtime
