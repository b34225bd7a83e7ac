#include "runtime/agent-runtime.h"

#include <boost/asio/co_spawn.hpp>

#include <future>

namespace chorus::runtime {

nlohmann::json AgentRuntime::send_and_wait(Message message) {
  std::promise<nlohmann::json> done;
  auto result = done.get_future();
  boost::asio::co_spawn(executor(), send(std::move(message)),
                        [&done](std::exception_ptr error, nlohmann::json reply) {
                          if (error)
                            done.set_exception(error);
                          else
                            done.set_value(std::move(reply));
                        });
  return result.get();
}

void AgentRuntime::publish_and_wait(Message message) {
  std::promise<void> done;
  auto result = done.get_future();
  boost::asio::co_spawn(executor(), publish(std::move(message)), [&done](std::exception_ptr error) {
    if (error)
      done.set_exception(error);
    else
      done.set_value();
  });
  result.get();
}

}  // namespace chorus::runtime
