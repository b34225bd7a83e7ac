#include "runtime/echo-agent.h"

namespace chorus::runtime {
namespace {

class EchoAgent final : public Agent {
 public:
  boost::asio::awaitable<nlohmann::json> on_message(const Message& message, AgentContext&) override {
    co_return message.payload;
  }
};

}  // namespace

std::unique_ptr<Agent> make_echo_agent() { return std::make_unique<EchoAgent>(); }

}  // namespace chorus::runtime
