#pragma once
// LocalRuntime: agents in this process on a Boost.Asio thread pool, one strand per agent instance.
#include "runtime/agent-runtime.h"

#include <memory>
#include <string>
#include <vector>

namespace chorus::runtime {

// Where a LocalRuntime sends what it cannot deliver itself (a worker's link to the host).
class RemoteRouter {
 public:
  virtual ~RemoteRouter() = default;
  // A direct message for an agent type this process does not host.
  virtual boost::asio::awaitable<nlohmann::json> send(Message message) = 0;
  // A publication (already delivered to local subscribers) for the other processes.
  virtual boost::asio::awaitable<void> publish(Message message) = 0;
};

struct LocalRuntimeOptions {
  int threads = 4;  // executor threads; handlers may block (LLM calls), so more than the core count is fine
};

class LocalRuntime final : public AgentRuntime {
 public:
  explicit LocalRuntime(LocalRuntimeOptions options = {});
  ~LocalRuntime() override;  // cancels in-flight messages, joins the threads
  LocalRuntime(const LocalRuntime&) = delete;
  LocalRuntime& operator=(const LocalRuntime&) = delete;

  void register_factory(const std::string& type, AgentFactory factory) override;
  void add_subscription(const Subscription& subscription) override;
  boost::asio::awaitable<nlohmann::json> send(Message message) override;
  boost::asio::awaitable<void> publish(Message message) override;
  boost::asio::any_io_executor executor() override;
  void set_journal_provider(JournalProvider provider) override;

  // Messages for unregistered types (and every publication) also go to `remote`; nullptr: not_found.
  void set_remote(std::shared_ptr<RemoteRouter> remote);
  // True when `type` has a factory here.
  bool hosts(const std::string& type) const;
  // The registered agent types and subscriptions (what a worker advertises to the host).
  std::vector<std::string> agent_types() const;
  std::vector<Subscription> subscriptions() const;
  // Delivers a message that came from the host to a local agent only (never to the remote).
  boost::asio::awaitable<nlohmann::json> deliver(Message message);
  // Delivers a publication that came from the host to local subscribers only.
  boost::asio::awaitable<void> deliver_publication(Message message);
  // Cancels the in-flight handling of message `id` (its stop token is requested; the sender gets `cancelled`).
  void cancel(const std::string& message_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::runtime
