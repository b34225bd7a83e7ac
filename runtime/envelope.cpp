#include "runtime/envelope.h"

#include <chrono>

namespace chorus::runtime {

v1::Envelope to_envelope(const Message& message) {
  v1::Envelope e;
  e.set_id(message.id);
  if (message.sender) {
    e.mutable_sender()->set_type(message.sender->type);
    e.mutable_sender()->set_key(message.sender->key);
  }
  if (message.recipient) {
    e.mutable_recipient()->set_type(message.recipient->type);
    e.mutable_recipient()->set_key(message.recipient->key);
  } else if (message.topic) {
    e.set_topic(message.topic->str());
  }
  if (message.any) {
    e.mutable_any()->set_type_url(message.any->type_url);
    e.mutable_any()->set_value(message.any->value);
  } else {
    e.set_json(message.payload.dump());
  }
  e.set_trace_id(message.trace_id);
  e.set_parent_id(message.parent_id);
  if (message.has_deadline())
    e.set_deadline_unix_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(message.deadline.time_since_epoch()).count());
  for (const auto& [k, v] : message.metadata) (*e.mutable_metadata())[k] = v;
  return e;
}

Message from_envelope(const v1::Envelope& e) {
  Message m;
  m.id = e.id();
  if (e.has_sender()) m.sender = AgentId{e.sender().type(), e.sender().key()};
  try {
    if (e.has_recipient())
      m.recipient = AgentId{e.recipient().type(), e.recipient().key()};
    else if (e.destination_case() == v1::Envelope::kTopic)
      m.topic = TopicId::parse(e.topic());
  } catch (const std::exception& error) {
    throw AgentError(StatusCode::invalid_argument, std::string("message ") + e.id() + ": " + error.what());
  }
  if (e.has_any()) {
    m.any = AnyPayload{e.any().type_url(), e.any().value()};
  } else if (e.payload_case() == v1::Envelope::kJson && !e.json().empty()) {
    m.payload = nlohmann::json::parse(e.json(), nullptr, false);
    if (m.payload.is_discarded())
      throw AgentError(StatusCode::invalid_argument, "message " + e.id() + ": payload is not valid JSON");
  }
  m.trace_id = e.trace_id();
  m.parent_id = e.parent_id();
  if (e.deadline_unix_ms() != 0)
    m.deadline = std::chrono::system_clock::time_point(std::chrono::milliseconds(e.deadline_unix_ms()));
  for (const auto& [k, v] : e.metadata()) m.metadata[k] = v;
  return m;
}

v1::Status to_wire_status(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return v1::STATUS_OK;
    case StatusCode::not_found: return v1::STATUS_NOT_FOUND;
    case StatusCode::invalid_argument: return v1::STATUS_INVALID_ARGUMENT;
    case StatusCode::deadline_exceeded: return v1::STATUS_DEADLINE_EXCEEDED;
    case StatusCode::cancelled: return v1::STATUS_CANCELLED;
    case StatusCode::unavailable: return v1::STATUS_UNAVAILABLE;
    case StatusCode::unauthenticated: return v1::STATUS_UNAUTHENTICATED;
    case StatusCode::resource_exhausted: return v1::STATUS_RESOURCE_EXHAUSTED;
    case StatusCode::failed: return v1::STATUS_FAILED;
  }
  return v1::STATUS_FAILED;
}

StatusCode from_wire_status(v1::Status status) {
  switch (status) {
    case v1::STATUS_OK: return StatusCode::ok;
    case v1::STATUS_NOT_FOUND: return StatusCode::not_found;
    case v1::STATUS_INVALID_ARGUMENT: return StatusCode::invalid_argument;
    case v1::STATUS_DEADLINE_EXCEEDED: return StatusCode::deadline_exceeded;
    case v1::STATUS_CANCELLED: return StatusCode::cancelled;
    case v1::STATUS_UNAVAILABLE: return StatusCode::unavailable;
    case v1::STATUS_UNAUTHENTICATED: return StatusCode::unauthenticated;
    case v1::STATUS_RESOURCE_EXHAUSTED: return StatusCode::resource_exhausted;
    default: return StatusCode::failed;
  }
}

v1::Response make_ok_response(const std::string& request_id, const nlohmann::json& reply) {
  v1::Response r;
  r.set_request_id(request_id);
  r.set_status(v1::STATUS_OK);
  r.set_reply_json(reply.dump());
  return r;
}

v1::Response make_error_response(const std::string& request_id, StatusCode code, const std::string& message) {
  v1::Response r;
  r.set_request_id(request_id);
  r.set_status(to_wire_status(code == StatusCode::ok ? StatusCode::failed : code));
  r.set_error(message);
  return r;
}

v1::Response make_error_response(const std::string& request_id, std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const AgentError& e) {
    return make_error_response(request_id, e.code(), e.what());
  } catch (const std::exception& e) {
    return make_error_response(request_id, StatusCode::failed, e.what());
  } catch (...) {
    return make_error_response(request_id, StatusCode::failed, "unknown error");
  }
}

nlohmann::json reply_or_throw(const v1::Response& response) {
  if (response.status() != v1::STATUS_OK) throw AgentError(from_wire_status(response.status()), response.error());
  if (response.reply_json().empty()) return nullptr;
  auto reply = nlohmann::json::parse(response.reply_json(), nullptr, false);
  if (reply.is_discarded()) throw AgentError(StatusCode::failed, "reply to " + response.request_id() + " is not JSON");
  return reply;
}

AgentError from_grpc_status(const grpc::Status& status) {
  StatusCode code = StatusCode::failed;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED: code = StatusCode::unauthenticated; break;
    case grpc::StatusCode::UNAVAILABLE: code = StatusCode::unavailable; break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = StatusCode::deadline_exceeded; break;
    case grpc::StatusCode::CANCELLED: code = StatusCode::cancelled; break;
    case grpc::StatusCode::NOT_FOUND: code = StatusCode::not_found; break;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION: code = StatusCode::invalid_argument; break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: code = StatusCode::resource_exhausted; break;
    default: break;
  }
  return AgentError(code, status.error_message());
}

}  // namespace chorus::runtime
