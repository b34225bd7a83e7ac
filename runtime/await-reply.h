#pragma once
// await_reply: awaits a reply that arrives through a callback on another thread (a gRPC reader, a router).
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include <exception>
#include <functional>

namespace chorus::runtime {

// Called exactly once with an error (then the JSON is ignored) or the reply; later calls are ignored.
using ReplyCallback = std::function<void(std::exception_ptr error, nlohmann::json reply)>;

// Calls `start` with a callback and resumes the awaiting coroutine (on its executor) when the callback runs;
// an error is rethrown. The callback may run on any thread, also inside `start`.
boost::asio::awaitable<nlohmann::json> await_reply(std::function<void(ReplyCallback)> start);

}  // namespace chorus::runtime
