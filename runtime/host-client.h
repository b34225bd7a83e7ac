#pragma once
// HostClient: a program's connection to a `chorus serve` host: start/resume/replay runs there, send messages.
#include "runtime/message.h"
#include "runtime/run-event.h"
#include "runtime/run-store.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

namespace chorus::runtime {

// How to reach a host.
struct HostConnection {
  std::string address;      // "127.0.0.1:7070" or "unix:/path"
  std::string token;        // shared secret sent as "authorization: Bearer <token>"; empty: none
  std::string tls_ca_file;  // PEM roots to verify the host's certificate; empty: plaintext
};

// The token from --token-file FILE if given, else the CHORUS_TOKEN environment variable, else "".
// Throws std::runtime_error naming the file when it cannot be read or is empty.
std::string resolve_token(const std::string& token_file);

class HostClient {
 public:
  // Connects lazily; errors surface on the first call as AgentError(unavailable|unauthenticated, message).
  explicit HostClient(HostConnection connection);
  ~HostClient();

  // Starts a run of a workflow (its YAML text) on the host and streams its events until the run ends or waits.
  RunRecord start_run(const std::string& yaml_text, const std::string& file_name, const nlohmann::json& inputs,
                      const RunEventSink& on_event = {});
  RunRecord resume_run(const std::string& run_id, const std::map<std::string, std::string>& human_inputs = {},
                       const RunEventSink& on_event = {});
  RunRecord replay_run(const std::string& run_id, const RunEventSink& on_event = {});
  // A direct message routed by the host to whichever worker hosts the recipient's type; returns the reply.
  nlohmann::json send(const Message& message);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chorus::runtime
