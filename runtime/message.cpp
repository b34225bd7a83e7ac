#include "runtime/message.h"

#include <random>
#include <stdexcept>

namespace chorus::runtime {

TopicId TopicId::parse(std::string_view text) {
  auto slash = text.find('/');
  TopicId topic;
  topic.type = std::string(text.substr(0, slash));
  if (slash != std::string_view::npos) topic.source = std::string(text.substr(slash + 1));
  if (!is_valid_agent_type(topic.type))
    throw std::invalid_argument("topic '" + std::string(text) + "': type '" + topic.type +
                                "' must match [A-Za-z_][A-Za-z0-9_.-]* (write 'type' or 'type/source')");
  if (topic.source.empty())
    throw std::invalid_argument("topic '" + std::string(text) + "': source after '/' is empty; omit the '/' "
                                "for the default source");
  return topic;
}

std::string new_message_id() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    std::uint64_t word = i < 16 ? hi : lo;
    int shift = 60 - 4 * (i % 16);
    out.push_back(hex[(word >> shift) & 0xf]);
    if (i == 7 || i == 11 || i == 15 || i == 19) out.push_back('-');
  }
  return out;
}

Message make_request(AgentId to, nlohmann::json payload) {
  Message m;
  m.id = new_message_id();
  m.recipient = std::move(to);
  m.payload = std::move(payload);
  return m;
}

Message make_publication(TopicId topic, nlohmann::json payload) {
  Message m;
  m.id = new_message_id();
  m.topic = std::move(topic);
  m.payload = std::move(payload);
  return m;
}

}  // namespace chorus::runtime
