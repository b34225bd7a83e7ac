#include "runtime/local-runtime.h"

#include "runtime/agent-error.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace chorus::runtime {
namespace asio = boost::asio;
using nlohmann::json;

namespace {

using Strand = asio::strand<asio::io_context::executor_type>;
using SteadyClock = std::chrono::steady_clock;

// How long the destructor lets cancelled senders and finishing handlers run before stopping the threads.
constexpr std::chrono::milliseconds kShutdownGrace{200};

// The outcome of one message delivered to one agent instance, shared by the handler and the waiting sender.
// A waiting sender sleeps on `signal`: settling the call moves its expiry into the past, which wakes a pending
// wait or makes a later one complete at once. Every use of the timer happens under `mutex`.
struct Call {
  Call(asio::io_context& io, SteadyClock::time_point deadline) : deadline(deadline), signal(std::in_place, io) {
    signal->expires_at(deadline);
  }
  Call() = default;  // a publication: nobody waits for it

  std::mutex mutex;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  std::optional<asio::steady_timer> signal;
  std::stop_source stop;
  bool done = false;
  json reply;
  StatusCode code = StatusCode::ok;
  std::string error;

  // Records the outcome unless there is one already; wakes the sender. False when it was settled before.
  bool settle(StatusCode status, std::string text, json value = nullptr) {
    std::lock_guard lock(mutex);
    if (done) return false;
    done = true;
    code = status;
    error = std::move(text);
    reply = std::move(value);
    if (signal) signal->expires_at(SteadyClock::time_point{});
    return true;
  }
};

// Completes when `call` is settled or its deadline passes (the handler gets an error_code it may ignore).
template <typename Token>
auto async_wait_settled(const std::shared_ptr<Call>& call, Token&& token) {
  return asio::async_initiate<Token, void(boost::system::error_code)>(
      [call](auto handler) {
        std::lock_guard lock(call->mutex);
        call->signal->async_wait(std::move(handler));
      },
      token);
}

// One message waiting in an instance's mailbox.
struct Job {
  std::shared_ptr<const Message> message;
  std::shared_ptr<Call> call;
  bool publication = false;
};

// One agent instance: created by its factory on its first message, handles one message at a time.
struct Instance {
  Instance(AgentId id, Strand strand) : id(std::move(id)), strand(std::move(strand)) {}
  const AgentId id;
  Strand strand;
  std::mutex mutex;        // guards queue and draining
  std::deque<Job> queue;   // messages not yet started
  bool draining = false;   // a drain coroutine is running for this instance
  std::unique_ptr<Agent> agent;  // touched only by the drain coroutine
};


// The sender's deadline on the steady clock (max when the message has none).
SteadyClock::time_point steady_deadline(const Message& message) {
  if (!message.has_deadline()) return SteadyClock::time_point::max();
  const auto left = message.deadline - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24 * 365)) return SteadyClock::time_point::max();
  return SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(left);
}

}  // namespace

struct LocalRuntime::Impl {
  Impl(LocalRuntime& owner, int thread_count) : owner(owner), work(std::in_place, io.get_executor()) {
    running_threads = thread_count;
    threads.reserve(static_cast<size_t>(thread_count));
    for (int i = 0; i < thread_count; ++i) threads.emplace_back([this] { run_thread(); });
  }

  LocalRuntime& owner;
  asio::io_context io;  // declared before everything holding strands, timers or coroutines: destroyed last
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex threads_mutex;
  std::condition_variable threads_finished;
  int running_threads = 0;

  mutable std::mutex mutex;  // guards the registry below; never held while a factory or handler runs
  std::map<std::string, AgentFactory> factories;
  std::vector<Subscription> subscriptions;
  std::map<AgentId, std::shared_ptr<Instance>> instances;
  std::shared_ptr<RemoteRouter> remote;
  std::shared_ptr<const JournalProvider> journal_provider;
  std::atomic<bool> stopping{false};

  std::mutex inflight_mutex;  // guards inflight
  std::unordered_multimap<std::string, std::shared_ptr<Call>> inflight;  // by message id, for cancel()

  void run_thread() {
    for (;;) {
      try {
        io.run();
        break;
      } catch (const std::exception& e) {
        std::cerr << "chorus: local runtime: an executor thread caught: " << e.what() << "\n";
      }
    }
    {
      std::lock_guard lock(threads_mutex);
      --running_threads;
    }
    threads_finished.notify_all();
  }

  // Cancels every in-flight message, lets the cancellations reach their senders, stops and joins the threads.
  void shutdown() {
    stopping = true;
    std::vector<std::shared_ptr<Call>> calls;
    {
      std::lock_guard lock(inflight_mutex);
      for (auto& [id, call] : inflight) calls.push_back(call);
    }
    for (auto& call : calls) {
      call->settle(StatusCode::cancelled, "the agent runtime is shutting down");
      call->stop.request_stop();
    }
    work.reset();
    {
      std::unique_lock lock(threads_mutex);
      threads_finished.wait_for(lock, kShutdownGrace, [this] { return running_threads == 0; });
    }
    io.stop();
    for (auto& thread : threads)
      if (thread.joinable()) thread.join();
    {
      std::lock_guard lock(mutex);
      instances.clear();
    }
    std::lock_guard lock(inflight_mutex);
    inflight.clear();
  }

  // "a, b" (or "none"); the caller holds `mutex`.
  std::string registered_types() const {
    if (factories.empty()) return "none";
    std::string out;
    for (const auto& [type, factory] : factories) {
      if (!out.empty()) out.append(", ");
      out.append(type);
    }
    return out;
  }

  // The caller holds `mutex`.
  AgentError not_found(const std::string& type) const {
    return AgentError(StatusCode::not_found,
                      "no agent type '" + type + "' is registered here; registered: " + registered_types());
  }

  static AgentError shutting_down() {
    return AgentError(StatusCode::unavailable, "the agent runtime is shutting down");
  }

  // The instance record for `id` (its agent is created later, on its strand); the caller holds `mutex`.
  std::shared_ptr<Instance> instance_for(const AgentId& id) {
    auto it = instances.find(id);
    if (it != instances.end()) return it->second;
    auto instance = std::make_shared<Instance>(id, asio::make_strand(io));
    instances.emplace(id, instance);
    return instance;
  }

  void track(const std::string& message_id, const std::shared_ptr<Call>& call) {
    std::lock_guard lock(inflight_mutex);
    if (stopping) throw shutting_down();
    inflight.emplace(message_id, call);
  }

  void untrack(const std::string& message_id, const Call* call) {
    std::lock_guard lock(inflight_mutex);
    auto [begin, end] = inflight.equal_range(message_id);
    for (auto it = begin; it != end; ++it)
      if (it->second.get() == call) {
        inflight.erase(it);
        return;
      }
  }

  // Puts `job` in the instance's mailbox and starts its drain coroutine when none runs.
  void enqueue(const std::shared_ptr<Instance>& instance, Job job) {
    bool start = false;
    {
      std::lock_guard lock(instance->mutex);
      instance->queue.push_back(std::move(job));
      if (!instance->draining) start = instance->draining = true;
    }
    if (start) asio::co_spawn(instance->strand, drain(instance), asio::detached);
  }

  // Handles the instance's messages one after another until its mailbox is empty.
  asio::awaitable<void> drain(std::shared_ptr<Instance> instance) {
    for (;;) {
      Job job;
      {
        std::lock_guard lock(instance->mutex);
        if (instance->queue.empty()) {
          instance->draining = false;
          co_return;
        }
        job = std::move(instance->queue.front());
        instance->queue.pop_front();
      }
      co_await handle(*instance, job);
    }
  }

  std::unique_ptr<Agent> create_agent(const AgentId& id) {
    AgentFactory factory;
    {
      std::lock_guard lock(mutex);
      auto it = factories.find(id.type);
      if (it == factories.end()) throw not_found(id.type);
      factory = it->second;
    }
    auto agent = factory(id);
    if (!agent)
      throw AgentError(StatusCode::failed, "the factory of agent type '" + id.type + "' returned no agent for " +
                                               id.str());
    return agent;
  }

  std::shared_ptr<EffectJournal> journal_for(const Message& message) {
    std::shared_ptr<const JournalProvider> provider;
    {
      std::lock_guard lock(mutex);
      provider = journal_provider;
    }
    return provider && *provider ? (*provider)(message) : nullptr;
  }

  // Runs one message through the instance's agent (creating it first when needed) and settles its call.
  asio::awaitable<void> handle(Instance& instance, const Job& job) {
    const Message& message = *job.message;
    Call& call = *job.call;
    if (!call.stop.stop_requested()) {
      StatusCode code = StatusCode::ok;
      std::string error;
      json reply;
      try {
        if (!instance.agent) instance.agent = create_agent(instance.id);
        AgentContext context(owner, instance.id, message, call.stop.get_token(), journal_for(message));
        reply = co_await instance.agent->on_message(message, context);
      } catch (const AgentError& e) {
        code = e.code();
        error = e.what();
      } catch (const std::exception& e) {
        code = StatusCode::failed;
        error = e.what();
      } catch (...) {
        code = StatusCode::failed;
        error = "the handler threw a non-standard exception";
      }
      const bool settled = call.settle(code, error, job.publication ? json() : std::move(reply));
      if (settled && job.publication && code != StatusCode::ok)
        std::cerr << "chorus: subscriber " << instance.id.str() << " failed on publication "
                  << (message.topic ? message.topic->str() : std::string("?")) << " (message " << message.id
                  << "): " << to_string(code) << ": " << error << "\n";
    }
    untrack(message.id, &call);
  }

  // Waits until `call` is settled; settles it as deadline_exceeded (and stops the handler) when its deadline passes.
  asio::awaitable<json> await_reply(std::shared_ptr<Call> call, std::shared_ptr<const Message> message) {
    for (;;) {
      boost::system::error_code ignored;
      co_await async_wait_settled(call, asio::redirect_error(asio::use_awaitable, ignored));
      if (call->deadline != SteadyClock::time_point::max() && SteadyClock::now() >= call->deadline &&
          call->settle(StatusCode::deadline_exceeded, "no reply from " + message->recipient->str() +
                                                          " to message " + message->id + " before its deadline"))
        call->stop.request_stop();
      std::lock_guard lock(call->mutex);
      if (call->done) break;
    }
    if (call->code != StatusCode::ok) throw AgentError(call->code, call->error);
    co_return std::move(call->reply);
  }

  // Delivers a direct message to a local instance and awaits the reply.
  asio::awaitable<json> deliver_direct(Message message) {
    if (!message.recipient)
      throw AgentError(StatusCode::invalid_argument,
                       "message " + message.id + " has no recipient (publications go through publish)");
    if (message.id.empty()) message.id = new_message_id();
    const auto deadline = steady_deadline(message);
    if (deadline <= SteadyClock::now())
      throw AgentError(StatusCode::deadline_exceeded, "the deadline of message " + message.id + " to " +
                                                          message.recipient->str() + " passed before delivery");
    std::shared_ptr<Instance> instance;
    {
      std::lock_guard lock(mutex);
      if (!factories.count(message.recipient->type)) throw not_found(message.recipient->type);
      instance = instance_for(*message.recipient);
    }
    auto call = std::make_shared<Call>(io, deadline);
    auto shared = std::make_shared<const Message>(std::move(message));
    track(shared->id, call);
    enqueue(instance, Job{shared, call, false});
    co_return co_await await_reply(call, shared);
  }

  // Queues a publication for every matching local subscriber except its sender; returns the remote (if any).
  std::shared_ptr<RemoteRouter> deliver_to_subscribers(const std::shared_ptr<const Message>& message) {
    std::vector<std::shared_ptr<Instance>> targets;
    std::shared_ptr<RemoteRouter> forward;
    {
      std::lock_guard lock(mutex);
      forward = remote;
      std::set<AgentId> seen;
      for (const auto& subscription : subscriptions) {
        auto recipient = subscription.recipient_for(*message->topic);
        if (!recipient || (message->sender && *recipient == *message->sender)) continue;
        if (!factories.count(recipient->type) || !seen.insert(*recipient).second) continue;
        targets.push_back(instance_for(*recipient));
      }
    }
    for (const auto& instance : targets) {
      auto call = std::make_shared<Call>();
      track(message->id, call);
      enqueue(instance, Job{message, call, true});
    }
    return forward;
  }

  static std::shared_ptr<const Message> checked_publication(Message message) {
    if (!message.topic)
      throw AgentError(StatusCode::invalid_argument,
                       "message " + message.id + " has no topic (direct messages go through send)");
    if (message.id.empty()) message.id = new_message_id();
    return std::make_shared<const Message>(std::move(message));
  }
};

LocalRuntime::LocalRuntime(LocalRuntimeOptions options) {
  if (options.threads < 1)
    throw std::invalid_argument("LocalRuntimeOptions.threads must be at least 1 (got " +
                                std::to_string(options.threads) + ")");
  impl_ = std::make_unique<Impl>(*this, options.threads);
}

LocalRuntime::~LocalRuntime() { impl_->shutdown(); }

void LocalRuntime::register_factory(const std::string& type, AgentFactory factory) {
  if (!is_valid_agent_type(type))
    throw std::invalid_argument("agent type '" + type + "' must match [A-Za-z_][A-Za-z0-9_.-]*");
  if (!factory) throw std::invalid_argument("agent type '" + type + "': the factory is empty");
  std::lock_guard lock(impl_->mutex);
  if (!impl_->factories.emplace(type, std::move(factory)).second)
    throw std::invalid_argument("agent type '" + type + "' is already registered");
}

void LocalRuntime::add_subscription(const Subscription& subscription) {
  if (!is_valid_agent_type(subscription.agent_type))
    throw std::invalid_argument("subscription '" + subscription.str() + "': agent type '" + subscription.agent_type +
                                "' must match [A-Za-z_][A-Za-z0-9_.-]*");
  if (subscription.topic_type.empty() && !subscription.prefix)
    throw std::invalid_argument("subscription '" + subscription.str() +
                                "': the topic type is empty (use prefix matching with an empty prefix for all topics)");
  std::lock_guard lock(impl_->mutex);
  auto& subscriptions = impl_->subscriptions;
  if (std::find(subscriptions.begin(), subscriptions.end(), subscription) == subscriptions.end())
    subscriptions.push_back(subscription);
}

boost::asio::awaitable<json> LocalRuntime::send(Message message) {
  if (!message.recipient)
    throw AgentError(StatusCode::invalid_argument,
                     "message " + message.id + " has no recipient (publications go through publish)");
  std::shared_ptr<RemoteRouter> remote;
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->factories.count(message.recipient->type)) {
      if (!impl_->remote) throw impl_->not_found(message.recipient->type);
      remote = impl_->remote;
    }
  }
  if (remote) co_return co_await remote->send(std::move(message));
  co_return co_await impl_->deliver_direct(std::move(message));
}

boost::asio::awaitable<void> LocalRuntime::publish(Message message) {
  auto shared = Impl::checked_publication(std::move(message));
  auto remote = impl_->deliver_to_subscribers(shared);
  if (remote) co_await remote->publish(*shared);
}

boost::asio::any_io_executor LocalRuntime::executor() { return impl_->io.get_executor(); }

void LocalRuntime::set_journal_provider(JournalProvider provider) {
  auto shared = std::make_shared<const JournalProvider>(std::move(provider));
  std::lock_guard lock(impl_->mutex);
  impl_->journal_provider = std::move(shared);
}

void LocalRuntime::set_remote(std::shared_ptr<RemoteRouter> remote) {
  std::lock_guard lock(impl_->mutex);
  impl_->remote = std::move(remote);
}

bool LocalRuntime::hosts(const std::string& type) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->factories.count(type) > 0;
}

std::vector<std::string> LocalRuntime::agent_types() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& [type, factory] : impl_->factories) out.push_back(type);
  return out;
}

std::vector<Subscription> LocalRuntime::subscriptions() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->subscriptions;
}

boost::asio::awaitable<json> LocalRuntime::deliver(Message message) {
  co_return co_await impl_->deliver_direct(std::move(message));
}

boost::asio::awaitable<void> LocalRuntime::deliver_publication(Message message) {
  impl_->deliver_to_subscribers(Impl::checked_publication(std::move(message)));
  co_return;
}

void LocalRuntime::cancel(const std::string& message_id) {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(impl_->inflight_mutex);
    auto [begin, end] = impl_->inflight.equal_range(message_id);
    for (auto it = begin; it != end; ++it) calls.push_back(it->second);
  }
  for (auto& call : calls) {
    call->settle(StatusCode::cancelled, "message " + message_id + " was cancelled");
    call->stop.request_stop();
  }
}

}  // namespace chorus::runtime
