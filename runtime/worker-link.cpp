#include "runtime/worker-link.h"

#include "runtime/await-reply.h"
#include "tools/text-util.h"
#include "runtime/envelope.h"
#include "runtime/grpc-credentials.h"
#include "runtime/write-queue.h"

#include "chorus/v1/host.grpc.pb.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace chorus::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string default_worker_name() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  return std::string(host[0] ? host : "worker") + "-" + std::to_string(getpid());
}

using tools::join;

}  // namespace

struct WorkerLink::State : std::enable_shared_from_this<WorkerLink::State> {
  LocalRuntime& runtime;
  WorkerLinkOptions options;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::shared_ptr<WriteQueue<v1::WorkerFrame>> writer;  // null while disconnected
  grpc::ClientContext* context = nullptr;               // the live session's call, for stop()
  std::map<std::string, ReplyCallback> pending;         // requests sent to the host, by message id
  std::map<std::string, std::shared_ptr<std::promise<v1::JournalReply>>> journal_waiters;
  std::set<std::string> handling;                       // host requests being handled here
  std::optional<AgentError> fatal;
  bool stopping = false;
  bool stopped = false;
  std::thread thread;
  std::atomic<std::uint64_t> next_journal_id{1};

  std::mutex journal_cache_mutex;
  std::map<std::string, std::shared_ptr<EffectJournal>> journal_cache;  // trace id -> proxy (null: not a run)

  State(LocalRuntime& rt, WorkerLinkOptions opts) : runtime(rt), options(std::move(opts)) {
    if (options.name.empty()) options.name = default_worker_name();
  }

  void log(const std::string& line) {
    if (options.log) options.log(line);
  }

  // The live session's writer (null while disconnected). Frames are pushed without holding `mutex`: a push may
  // write on the calling thread, and the reading thread needs `mutex` to take replies.
  std::shared_ptr<WriteQueue<v1::WorkerFrame>> current_writer() const {
    std::lock_guard lock(mutex);
    return writer;
  }

  // Sends a frame to the host; false while disconnected.
  bool push(v1::WorkerFrame frame) {
    auto w = current_writer();
    return w && w->push(std::move(frame));
  }

  std::string not_connected() const {
    return "not connected to the chorus host at " + options.connection.address + " (reconnecting)";
  }

  // One request to the host's journal service, waited for synchronously (journal calls are blocking).
  v1::JournalReply journal_call(v1::WorkerFrame frame, const std::string& request_id) {
    auto promise = std::make_shared<std::promise<v1::JournalReply>>();
    auto result = promise->get_future();
    std::shared_ptr<WriteQueue<v1::WorkerFrame>> w;
    {
      std::lock_guard lock(mutex);
      w = writer;
      if (w) journal_waiters[request_id] = promise;  // before the push: the reply may come back at once
    }
    if (!w || !w->push(std::move(frame))) {
      std::lock_guard lock(mutex);
      journal_waiters.erase(request_id);
      throw std::runtime_error("effect journal: " + not_connected());
    }
    if (result.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
      std::lock_guard lock(mutex);
      journal_waiters.erase(request_id);
      throw std::runtime_error("effect journal: the host did not answer within 60 s");
    }
    auto reply = result.get();
    if (!reply.error().empty()) throw std::runtime_error("effect journal on the host: " + reply.error());
    return reply;
  }

  std::string journal_request_id() {
    std::string id = "j";
    id.append(std::to_string(next_journal_id++));
    return id;
  }

  std::shared_ptr<EffectJournal> journal_for(const Message& message);

  void run();
  enum class SessionEnd { never_connected, lost, fatal, stopped };
  SessionEnd session();
  void handle(const v1::HostFrame& frame, const std::shared_ptr<WriteQueue<v1::WorkerFrame>>& session_writer);
  void end_session();
};

namespace {

// The journal of one run, kept on the host: every lookup and record is a round trip.
class ProxyJournal final : public EffectJournal {
 public:
  ProxyJournal(std::weak_ptr<WorkerLink::State> state, std::string run_id, bool replaying)
      : state_(std::move(state)), run_id_(std::move(run_id)), replaying_(replaying) {}
  std::optional<nlohmann::json> lookup(const std::string& key) override;
  void record(const EffectRecord& record) override;
  bool replaying() const override { return replaying_; }

 private:
  std::weak_ptr<WorkerLink::State> state_;
  std::string run_id_;
  bool replaying_;
};

}  // namespace

std::optional<nlohmann::json> ProxyJournal::lookup(const std::string& key) {
  auto state = state_.lock();
  if (!state) throw std::runtime_error("effect journal: the worker link is gone");
  v1::WorkerFrame frame;
  std::string id = state->journal_request_id();
  auto* lookup = frame.mutable_journal_lookup();
  lookup->set_request_id(id);
  lookup->set_run_id(run_id_);
  lookup->set_key(key);
  auto reply = state->journal_call(std::move(frame), id);
  if (!reply.exists()) return std::nullopt;
  return nlohmann::json::parse(reply.result_json());
}

void ProxyJournal::record(const EffectRecord& record) {
  auto state = state_.lock();
  if (!state) throw std::runtime_error("effect journal: the worker link is gone");
  v1::WorkerFrame frame;
  std::string id = state->journal_request_id();
  auto* rec = frame.mutable_journal_record();
  rec->set_request_id(id);
  rec->set_run_id(run_id_);
  rec->set_key(record.key);
  rec->set_kind(record.kind);
  rec->set_request_json(record.request.dump());
  rec->set_result_json(record.result.dump());
  rec->set_elapsed_ms(record.elapsed_ms);
  state->journal_call(std::move(frame), id);
}

std::shared_ptr<EffectJournal> WorkerLink::State::journal_for(const Message& message) {
  if (message.trace_id.empty()) return nullptr;
  {
    std::lock_guard lock(journal_cache_mutex);
    auto it = journal_cache.find(message.trace_id);
    if (it != journal_cache.end()) return it->second;
  }
  v1::WorkerFrame frame;
  std::string id = journal_request_id();
  frame.mutable_journal_open()->set_request_id(id);
  frame.mutable_journal_open()->set_run_id(message.trace_id);
  auto reply = journal_call(std::move(frame), id);  // throws while disconnected: the message then fails
  std::shared_ptr<EffectJournal> journal;
  if (reply.exists()) journal = std::make_shared<ProxyJournal>(weak_from_this(), message.trace_id, reply.replaying());
  std::lock_guard lock(journal_cache_mutex);
  if (journal_cache.size() > 10000) journal_cache.clear();
  journal_cache[message.trace_id] = journal;
  return journal;
}

namespace {

// What the LocalRuntime cannot deliver goes to the host.
class LinkRouter final : public RemoteRouter {
 public:
  explicit LinkRouter(std::weak_ptr<WorkerLink::State> state) : state_(std::move(state)) {}

  boost::asio::awaitable<nlohmann::json> send(Message message) override {
    auto state = state_.lock();
    if (!state) throw AgentError(StatusCode::unavailable, "the worker link is gone");
    v1::WorkerFrame frame;
    *frame.mutable_request() = to_envelope(message);
    std::string id = message.id;
    // A named std::function, not a temporary lambda in the co_await expression (GCC 12 frees such twice).
    std::function<void(ReplyCallback)> start = [state, frame = std::move(frame), id](ReplyCallback done) mutable {
      std::shared_ptr<WriteQueue<v1::WorkerFrame>> writer;
      {
        std::lock_guard lock(state->mutex);
        writer = state->writer;
        if (writer) state->pending[id] = done;  // before the push: the reply may come back at once
      }
      if (writer && writer->push(std::move(frame))) return;
      {
        std::lock_guard lock(state->mutex);
        // Gone already when the session ended meanwhile: end_session() failed it (await_reply ignores a 2nd call).
        if (writer && state->pending.erase(id) == 0) return;
      }
      done(std::make_exception_ptr(AgentError(StatusCode::unavailable, state->not_connected())), nullptr);
    };
    nlohmann::json reply = co_await await_reply(std::move(start));
    co_return reply;
  }

  boost::asio::awaitable<void> publish(Message message) override {
    if (auto state = state_.lock()) {
      v1::WorkerFrame frame;
      *frame.mutable_publication() = to_envelope(message);
      state->push(std::move(frame));  // while disconnected, other workers miss it (publications are fire-and-forget)
    }
    co_return;
  }

 private:
  std::weak_ptr<WorkerLink::State> state_;
};

}  // namespace

void WorkerLink::State::handle(const v1::HostFrame& frame,
                               const std::shared_ptr<WriteQueue<v1::WorkerFrame>>& session_writer) {
  switch (frame.frame_case()) {
    case v1::HostFrame::kRequest: {
      std::string id = frame.request().id();
      Message message;
      try {
        message = from_envelope(frame.request());
      } catch (...) {
        v1::WorkerFrame reply;
        *reply.mutable_response() = make_error_response(id, std::current_exception());
        session_writer->push(std::move(reply), /*inline_ok=*/false);  // the reading thread must not block on writes
        return;
      }
      {
        std::lock_guard lock(mutex);
        handling.insert(id);
      }
      auto self = shared_from_this();
      boost::asio::co_spawn(runtime.executor(), runtime.deliver(std::move(message)),
                            [self, id, session_writer](std::exception_ptr error, nlohmann::json reply) {
                              {
                                std::lock_guard lock(self->mutex);
                                self->handling.erase(id);
                              }
                              v1::WorkerFrame out;
                              *out.mutable_response() =
                                  error ? make_error_response(id, error) : make_ok_response(id, reply);
                              session_writer->push(std::move(out));
                            });
      return;
    }
    case v1::HostFrame::kPublication: {
      Message message;
      try {
        message = from_envelope(frame.publication());
      } catch (const std::exception&) {
        return;
      }
      boost::asio::co_spawn(runtime.executor(), runtime.deliver_publication(std::move(message)),
                            boost::asio::detached);
      return;
    }
    case v1::HostFrame::kResponse: {
      ReplyCallback done;
      {
        std::lock_guard lock(mutex);
        auto it = pending.find(frame.response().request_id());
        if (it == pending.end()) return;
        done = std::move(it->second);
        pending.erase(it);
      }
      try {
        done(nullptr, reply_or_throw(frame.response()));
      } catch (...) {
        done(std::current_exception(), nullptr);
      }
      return;
    }
    case v1::HostFrame::kJournalReply: {
      std::shared_ptr<std::promise<v1::JournalReply>> waiter;
      {
        std::lock_guard lock(mutex);
        auto it = journal_waiters.find(frame.journal_reply().request_id());
        if (it == journal_waiters.end()) return;
        waiter = it->second;
        journal_waiters.erase(it);
      }
      waiter->set_value(frame.journal_reply());
      return;
    }
    case v1::HostFrame::kCancel: runtime.cancel(frame.cancel().message_id()); return;
    default: return;
  }
}

// Forgets the session: outgoing requests and journal calls fail, local handling of host requests is cancelled.
void WorkerLink::State::end_session() {
  std::map<std::string, ReplyCallback> failed;
  std::map<std::string, std::shared_ptr<std::promise<v1::JournalReply>>> journals;
  std::set<std::string> abandoned;
  std::shared_ptr<WriteQueue<v1::WorkerFrame>> old_writer;
  {
    std::lock_guard lock(mutex);
    old_writer = std::move(writer);
    writer.reset();
    failed.swap(pending);
    journals.swap(journal_waiters);
    abandoned.swap(handling);
  }
  if (old_writer) old_writer->close();
  std::string why = "lost the connection to the chorus host at " + options.connection.address;
  for (auto& [id, done] : failed) done(std::make_exception_ptr(AgentError(StatusCode::unavailable, why)), nullptr);
  for (auto& [id, waiter] : journals) {
    v1::JournalReply reply;
    reply.set_request_id(id);
    reply.set_error(why);
    waiter->set_value(reply);
  }
  for (const auto& id : abandoned) runtime.cancel(id);  // the host re-sends or fails them
}

WorkerLink::State::SessionEnd WorkerLink::State::session() {
  std::shared_ptr<grpc::Channel> channel;
  try {
    channel = make_host_channel(options.connection);
  } catch (const std::exception& e) {
    fatal = AgentError(StatusCode::invalid_argument, e.what());
    return SessionEnd::fatal;
  }
  auto stub = v1::Host::NewStub(channel);
  grpc::ClientContext context;
  add_token(context, options.connection.token);
  {
    std::lock_guard lock(mutex);
    if (stopping) return SessionEnd::stopped;
    this->context = &context;
  }
  auto stream = stub->Connect(&context);
  v1::WorkerFrame hello;
  auto* reg = hello.mutable_register_();
  reg->set_worker_name(options.name);
  std::vector<std::string> types = runtime.agent_types();
  for (const auto& type : types) reg->add_agent_types(type);
  for (const auto& s : runtime.subscriptions()) {
    auto* spec = reg->add_subscriptions();
    spec->set_topic_type(s.topic_type);
    spec->set_agent_type(s.agent_type);
    spec->set_prefix(s.prefix);
  }
  v1::HostFrame frame;
  bool registered = stream->Write(hello) && stream->Read(&frame) && frame.has_registered();
  SessionEnd end = SessionEnd::never_connected;
  if (registered) {
    auto session_writer = std::make_shared<WriteQueue<v1::WorkerFrame>>(
        [s = stream.get()](const v1::WorkerFrame& f) { return s->Write(f); });
    {
      std::lock_guard lock(mutex);
      writer = session_writer;
    }
    changed.notify_all();
    log("connected to " + options.connection.address + " as " + options.name + " hosting: " + join(types));
    while (stream->Read(&frame)) handle(frame, session_writer);
    end_session();
    session_writer->close();
    end = SessionEnd::lost;
  }
  {
    std::lock_guard lock(mutex);
    this->context = nullptr;
    if (stopping) end = SessionEnd::stopped;
  }
  grpc::Status status = stream->Finish();  // the stream ended (Read failed), so this returns its status
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    fatal = AgentError(StatusCode::unauthenticated, status.error_message());
    return SessionEnd::fatal;
  }
  if (!registered && status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    fatal = AgentError(StatusCode::invalid_argument, status.error_message());
    return SessionEnd::fatal;
  }
  if (end == SessionEnd::lost) log("lost the connection to the chorus host at " + options.connection.address);
  return end;
}

void WorkerLink::State::run() {
  auto backoff = milliseconds(200);
  for (;;) {
    SessionEnd end = session();
    if (end == SessionEnd::fatal || end == SessionEnd::stopped || !options.reconnect) break;
    if (end == SessionEnd::lost) backoff = milliseconds(200);
    std::unique_lock lock(mutex);
    if (changed.wait_for(lock, backoff, [&] { return stopping; })) break;
    backoff = std::min(backoff * 2, milliseconds(5000));
  }
  {
    std::lock_guard lock(mutex);
    stopped = true;
  }
  changed.notify_all();
}

WorkerLink::WorkerLink(LocalRuntime& runtime, WorkerLinkOptions options)
    : state_(std::make_shared<State>(runtime, std::move(options))) {
  runtime.set_remote(std::make_shared<LinkRouter>(state_));
  std::weak_ptr<State> weak = state_;
  runtime.set_journal_provider([weak](const Message& message) -> std::shared_ptr<EffectJournal> {
    auto state = weak.lock();
    return state ? state->journal_for(message) : nullptr;
  });
}

WorkerLink::~WorkerLink() { stop(); }

void WorkerLink::start() {
  std::lock_guard lock(state_->mutex);
  if (state_->thread.joinable() || state_->stopping) return;
  auto state = state_;
  state_->thread = std::thread([state] { state->run(); });
}

bool WorkerLink::wait_connected(milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->writer != nullptr || state_->stopped; }) &&
         state_->writer != nullptr;
}

bool WorkerLink::connected() const {
  std::lock_guard lock(state_->mutex);
  return state_->writer != nullptr;
}

std::optional<AgentError> WorkerLink::fatal_error() const {
  std::lock_guard lock(state_->mutex);
  return state_->fatal;
}

bool WorkerLink::wait_stopped(milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->stopped; });
}

void WorkerLink::stop() {
  std::thread thread;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    if (state_->context) state_->context->TryCancel();
    thread = std::move(state_->thread);
  }
  state_->changed.notify_all();
  if (thread.joinable()) thread.join();
  state_->end_session();
}

const std::string& WorkerLink::name() const { return state_->options.name; }

}  // namespace chorus::runtime
