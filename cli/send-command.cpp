// chorus send: one direct message through a host to whichever worker hosts the recipient (diagnostics).
#include "cli/command-registry.h"
#include "runtime/agent-error.h"
#include "runtime/host-client.h"

#include <iostream>

namespace chorus::cli {
namespace {

struct SendArgs {
  std::string connect;
  std::string to;
  std::string payload;
  std::string token_file;
  std::string tls_ca;
  double timeout_s = 60;
};

void send(const SendArgs& args) {
  runtime::Message message;
  try {
    auto recipient = runtime::AgentId::parse(args.to);
    auto payload = nlohmann::json::parse(args.payload, nullptr, false);
    if (payload.is_discarded()) throw std::invalid_argument("the payload is not valid JSON: " + args.payload);
    message = runtime::make_request(recipient, payload);
  } catch (const std::exception& e) {
    std::cerr << "chorus send: " << e.what() << "\n";
    exit_with(2);
  }
  if (args.timeout_s > 0)
    message.deadline = std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<long long>(args.timeout_s * 1000));
  try {
    runtime::HostConnection connection{args.connect, runtime::resolve_token(args.token_file), args.tls_ca};
    runtime::HostClient client(connection);
    std::cout << client.send(message).dump(2) << "\n";
  } catch (const runtime::AgentError& e) {
    std::cerr << "chorus send: " << runtime::to_string(e.code()) << ": " << e.what() << "\n";
    exit_with(1);
  } catch (const std::exception& e) {
    std::cerr << "chorus send: " << e.what() << "\n";
    exit_with(1);
  }
}

void install_send_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("send", "Send one message through a host and print the reply");
  static SendArgs args;
  cmd->add_option("--connect", args.connect, "Host address (HOST:PORT)")->required();
  cmd->add_option("--to", args.to, "Recipient TYPE/KEY")->required();
  cmd->add_option("payload", args.payload, "JSON payload")->required();
  cmd->add_option("--timeout", args.timeout_s, "Seconds to wait for the reply (0: no deadline)")
      ->capture_default_str();
  cmd->add_option("--token-file", args.token_file, "File holding the host's token (else CHORUS_TOKEN)");
  cmd->add_option("--tls-ca", args.tls_ca, "PEM roots to verify the host's TLS certificate");
  cmd->callback([] { send(args); });
}

}  // namespace

CHORUS_CLI_COMMAND(send, 72, install_send_command);

}  // namespace chorus::cli
