#include "runtime/await-reply.h"

#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <memory>

namespace chorus::runtime {
namespace asio = boost::asio;

asio::awaitable<nlohmann::json> await_reply(std::function<void(ReplyCallback)> start) {
  auto initiate = [start = std::move(start)](auto handler) {
    using Handler = decltype(handler);
    auto shared = std::make_shared<Handler>(std::move(handler));
    auto called = std::make_shared<std::atomic<bool>>(false);
    start([shared, called](std::exception_ptr error, nlohmann::json reply) {
      if (called->exchange(true)) return;
      auto executor = asio::get_associated_executor(*shared);
      asio::post(executor, [shared, error, reply = std::move(reply)]() mutable {
        (*shared)(error, std::move(reply));
      });
    });
  };
  nlohmann::json reply =
      co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, nlohmann::json)>(
          std::move(initiate), asio::use_awaitable);
  co_return reply;
}

}  // namespace chorus::runtime
