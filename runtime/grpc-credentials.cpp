#include "runtime/grpc-credentials.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace chorus::runtime {
namespace {

std::string trim(std::string text) {
  const char* space = " \t\r\n";
  auto begin = text.find_first_not_of(space);
  if (begin == std::string::npos) return "";
  auto end = text.find_last_not_of(space);
  return text.substr(begin, end - begin + 1);
}

// Constant-time comparison, so a wrong token does not leak how much of it matched.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(what + " '" + path + "' cannot be read");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string resolve_token(const std::string& token_file) {
  if (!token_file.empty()) {
    std::string token = trim(read_text_file(token_file, "token file"));
    if (token.empty())
      throw std::runtime_error("token file '" + token_file + "' is empty; write the shared token into it");
    return token;
  }
  if (const char* env = std::getenv("CHORUS_TOKEN")) return trim(env);
  return "";
}

std::shared_ptr<grpc::Channel> make_host_channel(const HostConnection& connection) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (connection.tls_ca_file.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_text_file(connection.tls_ca_file, "TLS CA file (--tls-ca)");
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(connection.address, credentials, args);
}

void add_token(grpc::ClientContext& context, const std::string& token) {
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

std::shared_ptr<grpc::ServerCredentials> make_server_credentials(const std::string& cert_file,
                                                                 const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) return grpc::InsecureServerCredentials();
  if (cert_file.empty() || key_file.empty())
    throw std::runtime_error("TLS needs both --tls-cert FILE and --tls-key FILE (PEM)");
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back(
      {read_text_file(key_file, "TLS key file (--tls-key)"), read_text_file(cert_file, "TLS certificate file (--tls-cert)")});
  return grpc::SslServerCredentials(ssl);
}

grpc::Status check_token(const grpc::ServerContext& context, const std::string& token) {
  if (token.empty()) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    std::string value(it->second.data(), it->second.size());
    const std::string prefix = "Bearer ";
    if (value.rfind(prefix, 0) == 0 && same_secret(value.substr(prefix.size()), token)) return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, kWrongTokenMessage);
}

}  // namespace chorus::runtime
