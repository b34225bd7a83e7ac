#pragma once
// Conversions between runtime::Message / StatusCode and their wire forms (chorus::v1::Envelope, chorus::v1::Status).
#include "runtime/agent-error.h"
#include "runtime/message.h"

#include "chorus/v1/agent.pb.h"
#include "chorus/v1/host.pb.h"

#include <grpcpp/support/status.h>

namespace chorus::runtime {

// The message as an Envelope (JSON payload as text, AnyPayload as google.protobuf.Any, deadline in unix ms).
v1::Envelope to_envelope(const Message& message);
// The Envelope as a message; throws AgentError(invalid_argument) naming the bad field.
Message from_envelope(const v1::Envelope& envelope);

// StatusCode <-> wire status.
v1::Status to_wire_status(StatusCode code);
StatusCode from_wire_status(v1::Status status);

// A Response frame for request `request_id`: the reply, or the error of `error` (an AgentError keeps its code).
v1::Response make_ok_response(const std::string& request_id, const nlohmann::json& reply);
v1::Response make_error_response(const std::string& request_id, StatusCode code, const std::string& message);
v1::Response make_error_response(const std::string& request_id, std::exception_ptr error);
// The reply of a Response, or throws its AgentError.
nlohmann::json reply_or_throw(const v1::Response& response);

// A gRPC status as an AgentError (UNAUTHENTICATED -> unauthenticated, UNAVAILABLE -> unavailable, ...).
AgentError from_grpc_status(const grpc::Status& status);

}  // namespace chorus::runtime
