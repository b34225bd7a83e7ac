#pragma once
// AgentError: why a message could not be delivered or handled, with a status code that survives the wire.
#include <stdexcept>
#include <string>
#include <string_view>

namespace chorus::runtime {

// Status codes of a failed request (mirrored by the gRPC contract).
enum class StatusCode {
  ok,
  not_found,           // no agent type (or no worker hosting it) for the recipient
  invalid_argument,    // malformed message
  deadline_exceeded,   // the reply did not come before the message's deadline
  cancelled,           // the sender or the runtime cancelled it
  unavailable,         // the worker handling it disconnected, or the host is unreachable
  unauthenticated,     // wrong or missing token
  resource_exhausted,  // a budget (tokens, turns, time) ran out
  failed,              // the handler threw
};

// "ok", "not_found", ...
const char* to_string(StatusCode code);
// Inverse of to_string; unknown text gives StatusCode::failed.
StatusCode status_from_string(std::string_view text);

class AgentError : public std::runtime_error {
 public:
  AgentError(StatusCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  StatusCode code() const { return code_; }

 private:
  StatusCode code_;
};

}  // namespace chorus::runtime
