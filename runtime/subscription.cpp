#include "runtime/subscription.h"

namespace chorus::runtime {

std::optional<AgentId> Subscription::recipient_for(const TopicId& topic) const {
  bool match = prefix ? topic.type.compare(0, topic_type.size(), topic_type) == 0 : topic.type == topic_type;
  if (!match) return std::nullopt;
  return AgentId{agent_type, topic.source};
}

std::string Subscription::str() const {
  return std::string(prefix ? "prefix:" : "type:") + topic_type + " -> " + agent_type;
}

}  // namespace chorus::runtime
