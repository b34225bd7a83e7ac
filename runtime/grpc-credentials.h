#pragma once
// Token and TLS helpers shared by the host (`chorus serve`), workers and clients.
#include "runtime/host-client.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <string>

namespace chorus::runtime {

// What a client sees when the host refuses its token.
inline constexpr const char* kWrongTokenMessage =
    "chorus host: wrong or missing token; pass --token-file FILE or set CHORUS_TOKEN to the host's token";

// A channel to the host: TLS verified against connection.tls_ca_file when set, plaintext otherwise.
// Throws std::runtime_error naming the CA file when it cannot be read.
std::shared_ptr<grpc::Channel> make_host_channel(const HostConnection& connection);
// Adds "authorization: Bearer TOKEN" to a call (nothing when the token is empty).
void add_token(grpc::ClientContext& context, const std::string& token);

// Server credentials: TLS from PEM files when both are given, insecure when both are empty.
// Throws std::runtime_error naming the file that cannot be read, or when only one of the two is given.
std::shared_ptr<grpc::ServerCredentials> make_server_credentials(const std::string& cert_file,
                                                                 const std::string& key_file);
// OK when `token` is empty or the call carries it; UNAUTHENTICATED with kWrongTokenMessage otherwise.
grpc::Status check_token(const grpc::ServerContext& context, const std::string& token);

// The whole content of a file; throws std::runtime_error "<what> 'FILE' cannot be read" when it cannot.
std::string read_text_file(const std::string& path, const std::string& what);

}  // namespace chorus::runtime
