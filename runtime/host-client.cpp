#include "runtime/host-client.h"

#include "runtime/agent-error.h"
#include "runtime/envelope.h"
#include "runtime/grpc-credentials.h"
#include "runtime/run-record-json.h"

#include "chorus/v1/host.grpc.pb.h"

#include <mutex>

namespace chorus::runtime {

struct HostClient::Impl {
  HostConnection connection;
  std::mutex mutex;
  std::unique_ptr<v1::Host::Stub> stub;

  v1::Host::Stub& host() {
    std::lock_guard lock(mutex);
    if (!stub) {
      try {
        stub = v1::Host::NewStub(make_host_channel(connection));
      } catch (const std::exception& e) {
        throw AgentError(StatusCode::invalid_argument, e.what());
      }
    }
    return *stub;
  }

  // Turns transport failures into AgentErrors that say which host could not be reached.
  AgentError error_from(const grpc::Status& status) const {
    auto error = from_grpc_status(status);
    if (error.code() == StatusCode::unavailable)
      return AgentError(StatusCode::unavailable, "cannot reach the chorus host at " + connection.address + ": " +
                                                     status.error_message() + " (is `chorus serve` running there?)");
    return error;
  }

  template <typename Request, typename Call>
  RunRecord stream_run(const Request& request, Call call, const RunEventSink& on_event) {
    grpc::ClientContext context;
    add_token(context, connection.token);
    auto reader = call(host(), &context, request);
    v1::RunEventFrame frame;
    std::optional<RunRecord> run;
    while (reader->Read(&frame)) {
      if (frame.has_record_json()) {
        run = run_record_from_json(nlohmann::json::parse(frame.record_json()));
      } else if (on_event) {
        auto event = nlohmann::json::parse(frame.event_json(), nullptr, false);
        if (!event.is_discarded()) on_event(RunEvent::from_json(event));
      }
    }
    grpc::Status status = reader->Finish();
    if (!status.ok()) throw error_from(status);
    if (!run) throw AgentError(StatusCode::unavailable, "the chorus host at " + connection.address +
                                                            " ended the run stream without the run's record");
    return *run;
  }
};

HostClient::HostClient(HostConnection connection) : impl_(std::make_unique<Impl>()) {
  impl_->connection = std::move(connection);
}

HostClient::~HostClient() = default;

RunRecord HostClient::start_run(const std::string& yaml_text, const std::string& file_name,
                                const nlohmann::json& inputs, const RunEventSink& on_event) {
  v1::StartRunRequest request;
  request.set_yaml_text(yaml_text);
  request.set_file_name(file_name);
  request.set_inputs_json(inputs.dump());
  return impl_->stream_run(
      request, [](v1::Host::Stub& s, grpc::ClientContext* c, const auto& r) { return s.StartRun(c, r); }, on_event);
}

RunRecord HostClient::resume_run(const std::string& run_id, const std::map<std::string, std::string>& human_inputs,
                                 const RunEventSink& on_event) {
  v1::ResumeRunRequest request;
  request.set_run_id(run_id);
  for (const auto& [k, v] : human_inputs) (*request.mutable_human_inputs())[k] = v;
  return impl_->stream_run(
      request, [](v1::Host::Stub& s, grpc::ClientContext* c, const auto& r) { return s.ResumeRun(c, r); }, on_event);
}

RunRecord HostClient::replay_run(const std::string& run_id, const RunEventSink& on_event) {
  v1::ReplayRunRequest request;
  request.set_run_id(run_id);
  return impl_->stream_run(
      request, [](v1::Host::Stub& s, grpc::ClientContext* c, const auto& r) { return s.ReplayRun(c, r); }, on_event);
}

nlohmann::json HostClient::send(const Message& message) {
  if (!message.recipient)
    throw AgentError(StatusCode::invalid_argument, "HostClient::send needs a direct message (a recipient)");
  Message m = message;
  if (m.id.empty()) m.id = new_message_id();
  grpc::ClientContext context;
  add_token(context, impl_->connection.token);
  if (m.has_deadline()) context.set_deadline(m.deadline + std::chrono::seconds(5));
  v1::SendReply reply;
  grpc::Status status = impl_->host().Send(&context, to_envelope(m), &reply);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      throw AgentError(StatusCode::deadline_exceeded, "message " + m.id + " got no reply before its deadline");
    throw impl_->error_from(status);
  }
  return reply_or_throw(reply.response());
}

}  // namespace chorus::runtime
