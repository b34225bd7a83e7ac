#pragma once
// Subscriptions: which agents receive a publication on a topic.
#include "runtime/agent-id.h"
#include "runtime/message.h"

#include <optional>
#include <string>

namespace chorus::runtime {

// Delivers publications whose topic type equals (or, with `prefix`, starts with) `topic_type` to agents of
// `agent_type`; the receiving instance's key is the topic's source.
struct Subscription {
  std::string topic_type;
  std::string agent_type;
  bool prefix = false;

  // The recipient for `topic`, or nothing when this subscription does not match it.
  std::optional<AgentId> recipient_for(const TopicId& topic) const;
  // "type:progress -> tracker" or "prefix:run. -> tracker".
  std::string str() const;
  bool operator==(const Subscription&) const = default;
};

}  // namespace chorus::runtime
