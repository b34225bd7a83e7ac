// chorus serve: the host that workers and clients connect to (routing, run store, workflow runs).
#include "cli/runs-command.h"
#include "cli/command-registry.h"
#include "cli/stop-signals.h"
#include "runtime/host-client.h"
#include "runtime/host-server.h"

#include <iostream>
#include <mutex>

namespace chorus::cli {
namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:7070";
  std::string store;  // "": $CHORUS_STORE, else runs.db
  std::string token_file;
  std::string tls_cert, tls_key;
  std::string on_worker_loss = "retry";
};

void serve(const ServeArgs& args) {
  block_stop_signals();
  runtime::HostServerOptions options;
  options.listen = args.listen;
  options.store_path = store_path(args.store);
  options.tls_cert_file = args.tls_cert;
  options.tls_key_file = args.tls_key;
  options.on_worker_loss =
      args.on_worker_loss == "fail" ? runtime::WorkerLossPolicy::fail : runtime::WorkerLossPolicy::retry;
  static std::mutex log_mutex;
  options.log = [](const std::string& line) {
    std::lock_guard lock(log_mutex);
    std::cerr << "chorus host: " << line << std::endl;
  };
  std::unique_ptr<runtime::HostServer> host;
  try {
    options.token = runtime::resolve_token(args.token_file);
    host = std::make_unique<runtime::HostServer>(options);
  } catch (const std::exception& e) {
    std::cerr << "chorus serve: " << e.what() << "\n";
    exit_with(1);
  }
  if (options.token.empty() && !runtime::is_loopback_address(host->address()))
    std::cerr << "chorus serve: warning: listening on " << host->address()
              << " without a token: anyone who can reach it can run agents; pass --token-file FILE or set "
                 "CHORUS_TOKEN\n";
  if (options.tls_cert_file.empty() && !options.token.empty() && !runtime::is_loopback_address(host->address()))
    std::cerr << "chorus serve: warning: the token travels in plaintext; pass --tls-cert and --tls-key\n";
  std::cerr << "chorus host listening on " << host->address() << std::endl;
  while (wait_stop_signal(std::chrono::milliseconds(1000)) == 0) {
  }
  std::cerr << "chorus host: shutting down" << std::endl;
  host->shutdown();
}

void install_serve_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("serve", "Run the host that workers and clients connect to over gRPC");
  static ServeArgs args;
  cmd->add_option("--listen", args.listen, "Address to listen on (port 0 picks a free port)")->capture_default_str();
  cmd->add_option("--store", args.store, "Run store (SQLite file; default $CHORUS_STORE, else runs.db)");
  cmd->add_option("--token-file", args.token_file,
                  "File holding the shared token clients must send (else CHORUS_TOKEN; none: open)");
  cmd->add_option("--tls-cert", args.tls_cert, "TLS certificate (PEM); with --tls-key");
  cmd->add_option("--tls-key", args.tls_key, "TLS private key (PEM); with --tls-cert");
  cmd->add_option("--on-worker-loss", args.on_worker_loss,
                  "What happens to a lost worker's in-flight messages: retry once elsewhere, or fail")
      ->check(CLI::IsMember({"retry", "fail"}))
      ->capture_default_str();
  cmd->callback([] { serve(args); });
}

}  // namespace

CHORUS_CLI_COMMAND(serve, 70, install_serve_command);

}  // namespace chorus::cli
