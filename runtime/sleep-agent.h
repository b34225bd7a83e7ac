#pragma once
// The diagnostic "sleep" agent: waits payload.ms milliseconds (stopping early when cancelled), then replies
// {"worker": NAME, "agent": "type/key", "slept_ms": N, "payload": ...}: shows which worker handled a message.
#include "runtime/agent-kinds.h"

#include <memory>
#include <string>

namespace chorus::runtime {

std::unique_ptr<Agent> make_sleep_agent(std::string worker_name, AgentId id);
// Adds the kind "sleep" (replies name `worker_name`) to `registry`.
void add_sleep_kind(AgentKindRegistry& registry, const std::string& worker_name);

}  // namespace chorus::runtime
