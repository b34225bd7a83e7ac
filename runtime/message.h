#pragma once
// Message: what agents exchange (a direct request or a topic publication), and TopicId, a publication's address.
#include "runtime/agent-id.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chorus::runtime {

// A topic, written "type/source": subscriptions match on `type`; `source` becomes the receiving agent's key.
struct TopicId {
  std::string type;                // e.g. "progress"
  std::string source = "default";  // e.g. a run id or a session

  // Parses "type" or "type/source"; throws std::invalid_argument naming the problem.
  static TopicId parse(std::string_view text);
  // "type/source".
  std::string str() const { return type + "/" + source; }
  auto operator<=>(const TopicId&) const = default;
};

// A typed payload carried as a protobuf Any (type URL and serialized bytes), for programs that prefer protobuf.
struct AnyPayload {
  std::string type_url;
  std::string value;
  bool operator==(const AnyPayload&) const = default;
};

// Well-known metadata keys.
inline constexpr std::string_view kEffectScopeKey = "chorus.effect_scope";  // journal scope of a workflow step

// One message. Exactly one of `recipient` (direct) or `topic` (publication) is set.
struct Message {
  std::string id;                        // unique; new_message_id()
  std::optional<AgentId> sender;         // absent when a client (not an agent) sent it
  std::optional<AgentId> recipient;      // direct message
  std::optional<TopicId> topic;          // publication
  nlohmann::json payload;                // JSON payload (null when `any` is used)
  std::optional<AnyPayload> any;         // protobuf payload instead of JSON
  std::string trace_id;                  // groups every message of one run (the run id in workflows)
  std::string parent_id;                 // the message this one answers or was caused by
  std::chrono::system_clock::time_point deadline{};  // the epoch means no deadline
  std::map<std::string, std::string> metadata;       // extensions, e.g. kEffectScopeKey

  bool has_deadline() const { return deadline.time_since_epoch().count() != 0; }
};

// A fresh random (version 4) UUID, e.g. "3b241101-e2bb-4255-8caf-4136c566a962".
std::string new_message_id();

// A direct message to `to` with a fresh id.
Message make_request(AgentId to, nlohmann::json payload);
// A publication on `topic` with a fresh id.
Message make_publication(TopicId topic, nlohmann::json payload);

}  // namespace chorus::runtime
