#include "runtime/host-server.h"

#include "runtime/agent-error.h"
#include "runtime/await-reply.h"
#include "runtime/envelope.h"
#include "runtime/grpc-credentials.h"
#include "runtime/local-runtime.h"
#include "runtime/run-journal.h"
#include "runtime/run-record-json.h"
#include "runtime/run-store.h"
#include "runtime/workflow-engine.h"
#include "runtime/workflow-spec.h"
#include "runtime/write-queue.h"

#include "chorus/v1/host.grpc.pb.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>

namespace chorus::runtime {
namespace {

using std::chrono::milliseconds;

// The client stream of one active run: events from the engine and from workers' journal records.
class RunStream {
 public:
  explicit RunStream(grpc::ServerWriter<v1::RunEventFrame>* writer) : writer_(writer) {}
  void event(const RunEvent& event) {
    v1::RunEventFrame frame;
    frame.set_event_json(event.to_json().dump());
    write(frame);
  }
  void record(const RunRecord& run) {
    v1::RunEventFrame frame;
    frame.set_record_json(run_record_to_json(run).dump());
    write(frame);
  }
  // Stops all writing: the RPC is returning and its writer goes away (a late journal event must not use it).
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  void write(const v1::RunEventFrame& frame) {
    std::lock_guard lock(mutex_);
    if (open_) open_ = writer_->Write(frame);  // a client that went away does not stop the (durable) run
  }
  std::mutex mutex_;
  grpc::ServerWriter<v1::RunEventFrame>* writer_;
  bool open_ = true;
};

// The host's LocalRuntime sends what it cannot deliver (every agent: they live on workers) through the router.
class RouterRemote final : public RemoteRouter {
 public:
  explicit RouterRemote(HostRouter& router) : router_(router) {}
  boost::asio::awaitable<nlohmann::json> send(Message message) override {
    v1::Envelope envelope = to_envelope(message);
    HostRouter& router = router_;
    // A named std::function, not a temporary lambda in the co_await expression (GCC 12 frees such twice).
    std::function<void(ReplyCallback)> start = [&router, envelope](ReplyCallback done) {
      router.route(envelope, kNoPeer, [done](const v1::Response& response) {
        try {
          done(nullptr, reply_or_throw(response));
        } catch (...) {
          done(std::current_exception(), nullptr);
        }
      });
    };
    nlohmann::json reply = co_await await_reply(std::move(start));
    co_return reply;
  }
  boost::asio::awaitable<void> publish(Message message) override {
    router_.publish(to_envelope(message), kNoPeer);
    co_return;
  }

 private:
  HostRouter& router_;
};

std::string join_problems(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "\n";
    out += p;
  }
  return out;
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return true;
  return address.rfind("127.", 0) == 0 || address.rfind("localhost:", 0) == 0 || address.rfind("[::1]", 0) == 0 ||
         address == "localhost";
}

struct HostServer::Impl final : public v1::Host::Service {
  HostServerOptions options;
  std::string address;
  RunStore store;
  HostRouter router;
  LocalRuntime runtime;
  WorkflowEngine engine;
  std::unique_ptr<grpc::Server> server;
  std::mutex runs_mutex;
  std::map<std::string, std::shared_ptr<RunStream>> runs;  // active runs: run id -> its client stream
  std::once_flag shutdown_once;

  explicit Impl(HostServerOptions opts)
      : options(std::move(opts)), store(options.store_path), router(options.on_worker_loss),
        runtime(LocalRuntimeOptions{options.runtime_threads}), engine(runtime, store) {
    runtime.set_remote(std::make_shared<RouterRemote>(router));
  }

  void log(const std::string& line) {
    if (options.log) options.log(line);
  }

  // Connections --------------------------------------------------------------------------------------------
  grpc::Status Connect(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<v1::HostFrame, v1::WorkerFrame>* stream) override {
    if (auto status = check_token(*context, options.token); !status.ok()) return status;
    v1::WorkerFrame first;
    if (!stream->Read(&first)) return grpc::Status::OK;
    if (!first.has_register_())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "chorus host: the first frame must be a Register");
    const auto& reg = first.register_();
    RouterPeer peer;
    peer.name = reg.worker_name().empty() ? context->peer() : reg.worker_name();
    for (const auto& type : reg.agent_types()) peer.agent_types.push_back(type);
    for (const auto& s : reg.subscriptions()) peer.subscriptions.push_back(Subscription{s.topic_type(), s.agent_type(), s.prefix()});
    auto writer = std::make_shared<WriteQueue<v1::HostFrame>>(
        [stream](const v1::HostFrame& frame) { return stream->Write(frame); });
    // The worker may send as soon as it reads `registered`, so the peer is attached first; frames routed to it
    // meanwhile wait at the gate so that `registered` is still the first frame it reads.
    auto gate = std::make_shared<std::mutex>();
    std::unique_lock hold_gate(*gate);
    peer.send = [writer, gate](v1::HostFrame frame) {
      std::lock_guard pass(*gate);
      return writer->push(std::move(frame));
    };
    std::string name = peer.name;
    std::string types;
    for (const auto& t : peer.agent_types) types += (types.empty() ? "" : ", ") + t;
    v1::HostFrame welcome;
    welcome.mutable_registered()->set_worker_name(name);
    PeerId id = router.attach(std::move(peer));
    writer->push(welcome);
    hold_gate.unlock();
    log("worker " + name + " connected hosting: " + types);

    v1::WorkerFrame frame;
    while (stream->Read(&frame)) {
      switch (frame.frame_case()) {
        case v1::WorkerFrame::kRequest: {
          std::string request_id = frame.request().id();
          router.route(frame.request(), id, [writer](const v1::Response& response) {
            v1::HostFrame reply;
            *reply.mutable_response() = response;
            writer->push(std::move(reply));
          });
          break;
        }
        case v1::WorkerFrame::kResponse: router.complete(id, frame.response()); break;
        case v1::WorkerFrame::kPublication: router.publish(frame.publication(), id); break;
        case v1::WorkerFrame::kCancel: router.cancel(frame.cancel().message_id()); break;
        case v1::WorkerFrame::kJournalOpen:
        case v1::WorkerFrame::kJournalLookup:
        case v1::WorkerFrame::kJournalRecord: {
          v1::HostFrame reply;
          *reply.mutable_journal_reply() = answer_journal(frame);
          writer->push(std::move(reply));
          break;
        }
        default: break;
      }
    }
    router.detach(id);
    writer->close();
    log("worker " + name + " disconnected");
    return grpc::Status::OK;
  }

  std::shared_ptr<RunStream> run_stream(const std::string& run_id) {
    std::lock_guard lock(runs_mutex);
    auto it = runs.find(run_id);
    return it == runs.end() ? nullptr : it->second;
  }

  v1::JournalReply answer_journal(const v1::WorkerFrame& frame) {
    v1::JournalReply reply;
    try {
      if (frame.has_journal_open()) {
        reply.set_request_id(frame.journal_open().request_id());
        auto journal = journal_for_run(store, frame.journal_open().run_id());
        reply.set_exists(journal != nullptr);
        reply.set_replaying(journal && journal->replaying());
      } else if (frame.has_journal_lookup()) {
        const auto& lookup = frame.journal_lookup();
        reply.set_request_id(lookup.request_id());
        auto journal = journal_for_run(store, lookup.run_id());
        if (!journal) throw std::runtime_error("run '" + lookup.run_id() + "' is not in the host's store");
        if (auto result = journal->lookup(lookup.key())) {
          reply.set_exists(true);
          reply.set_result_json(result->dump());
        }
      } else {
        const auto& rec = frame.journal_record();
        reply.set_request_id(rec.request_id());
        std::string run_id = rec.run_id();
        RunEventSink sink = [this, run_id](const RunEvent& event) {
          if (auto stream = run_stream(run_id)) stream->event(event);
        };
        auto journal = journal_for_run(store, run_id, sink);
        if (!journal) throw std::runtime_error("run '" + run_id + "' is not in the host's store");
        EffectRecord record;
        record.key = rec.key();
        record.kind = rec.kind();
        record.request = nlohmann::json::parse(rec.request_json().empty() ? "null" : rec.request_json());
        record.result = nlohmann::json::parse(rec.result_json().empty() ? "null" : rec.result_json());
        record.elapsed_ms = rec.elapsed_ms();
        journal->record(record);
        reply.set_exists(true);
      }
    } catch (const std::exception& e) {
      reply.set_error(e.what());
    }
    return reply;
  }

  // Direct messages from clients ---------------------------------------------------------------------------
  grpc::Status Send(grpc::ServerContext* context, const v1::Envelope* request, v1::SendReply* reply) override {
    if (auto status = check_token(*context, options.token); !status.ok()) return status;
    auto done = std::make_shared<std::promise<v1::Response>>();
    auto result = done->get_future();
    router.route(*request, kNoPeer, [done](const v1::Response& response) { done->set_value(response); });
    auto deadline = request->deadline_unix_ms() ? std::chrono::system_clock::time_point(
                                                       milliseconds(request->deadline_unix_ms())) + milliseconds(2000)
                                                 : std::chrono::system_clock::time_point::max();
    while (result.wait_for(milliseconds(100)) != std::future_status::ready) {
      if (context->IsCancelled()) {
        router.cancel(request->id());
        break;
      }
      if (std::chrono::system_clock::now() > deadline) {
        router.cancel(request->id());
        *reply->mutable_response() = make_error_response(
            request->id(), StatusCode::deadline_exceeded, "message " + request->id() + " got no reply before its deadline");
        return grpc::Status::OK;
      }
    }
    *reply->mutable_response() = result.get();
    return grpc::Status::OK;
  }

  // Runs ---------------------------------------------------------------------------------------------------
  grpc::Status run_rpc(grpc::ServerContext* context, grpc::ServerWriter<v1::RunEventFrame>* writer,
                       const std::string& known_run_id,
                       const std::function<RunRecord(const RunEventSink&)>& body) {
    if (auto status = check_token(*context, options.token); !status.ok()) return status;
    auto stream = std::make_shared<RunStream>(writer);
    std::vector<std::string> registered;
    std::mutex registered_mutex;
    auto register_run = [&](const std::string& run_id) {
      if (run_id.empty()) return;
      std::lock_guard lock(registered_mutex);
      for (const auto& id : registered)
        if (id == run_id) return;
      registered.push_back(run_id);
      std::lock_guard runs_lock(runs_mutex);
      runs[run_id] = stream;
    };
    register_run(known_run_id);
    RunEventSink sink = [&](const RunEvent& event) {
      register_run(event.run_id);  // replays get their run id from the engine
      stream->event(event);
    };
    grpc::Status status = grpc::Status::OK;
    try {
      RunRecord run = body(sink);
      stream->record(run);
    } catch (const WorkflowError& e) {
      status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, join_problems(e.problems()));
    } catch (const AgentError& e) {
      status = grpc::Status(e.code() == StatusCode::not_found ? grpc::StatusCode::NOT_FOUND
                                                               : grpc::StatusCode::FAILED_PRECONDITION,
                            e.what());
    } catch (const std::exception& e) {
      status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, e.what());
    }
    {
      std::lock_guard lock(runs_mutex);
      for (const auto& id : registered) runs.erase(id);
    }
    stream->close();  // a worker's late journal event may still hold `stream`; it must not touch `writer`
    return status;
  }

  grpc::Status StartRun(grpc::ServerContext* context, const v1::StartRunRequest* request,
                        grpc::ServerWriter<v1::RunEventFrame>* writer) override {
    std::string run_id = new_message_id();
    return run_rpc(context, writer, run_id, [&](const RunEventSink& sink) {
      auto spec = WorkflowSpec::parse(request->yaml_text(), request->file_name());
      nlohmann::json inputs = nlohmann::json::object();
      if (!request->inputs_json().empty()) {
        inputs = nlohmann::json::parse(request->inputs_json(), nullptr, false);
        if (inputs.is_discarded()) throw std::invalid_argument("run inputs are not valid JSON");
      }
      return engine.start(spec, request->yaml_text(), inputs, sink, run_id);
    });
  }

  grpc::Status ResumeRun(grpc::ServerContext* context, const v1::ResumeRunRequest* request,
                         grpc::ServerWriter<v1::RunEventFrame>* writer) override {
    std::string run_id = request->run_id();
    if (auto status = check_token(*context, options.token); !status.ok()) return status;
    try {
      run_id = store.resolve_run(run_id).id;
    } catch (const std::exception& e) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, e.what());
    }
    std::map<std::string, std::string> inputs(request->human_inputs().begin(), request->human_inputs().end());
    return run_rpc(context, writer, run_id,
                   [&](const RunEventSink& sink) { return engine.resume(run_id, inputs, sink); });
  }

  grpc::Status ReplayRun(grpc::ServerContext* context, const v1::ReplayRunRequest* request,
                         grpc::ServerWriter<v1::RunEventFrame>* writer) override {
    std::string run_id = request->run_id();
    if (auto status = check_token(*context, options.token); !status.ok()) return status;
    try {
      run_id = store.resolve_run(run_id).id;
    } catch (const std::exception& e) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, e.what());
    }
    return run_rpc(context, writer, "", [&](const RunEventSink& sink) { return engine.replay(run_id, sink); });
  }
};

HostServer::HostServer(HostServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  auto& o = impl_->options;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.listen, make_server_credentials(o.tls_cert_file, o.tls_key_file), &port);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a second host on a busy port must fail, not share it
  builder.RegisterService(impl_.get());
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || (port == 0 && o.listen.rfind("unix:", 0) != 0))
    throw std::runtime_error("chorus serve: cannot listen on '" + o.listen +
                             "' (address in use or invalid); pick another with --listen HOST:PORT");
  impl_->address = o.listen;
  if (o.listen.rfind("unix:", 0) != 0) {
    auto colon = o.listen.rfind(':');
    impl_->address = o.listen.substr(0, colon) + ":" + std::to_string(port);
  }
}

HostServer::~HostServer() { shutdown(); }

const std::string& HostServer::address() const { return impl_->address; }

void HostServer::shutdown() {
  std::call_once(impl_->shutdown_once, [this] {
    impl_->router.fail_all("the host is shutting down");
    impl_->server->Shutdown(std::chrono::system_clock::now() + milliseconds(500));
    impl_->server->Wait();
  });
}

}  // namespace chorus::runtime
