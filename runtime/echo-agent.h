#pragma once
// The built-in "echo" agent: replies with the payload of the message it receives (for diagnostics).
#include "runtime/agent.h"

#include <memory>

namespace chorus::runtime {

std::unique_ptr<Agent> make_echo_agent();

}  // namespace chorus::runtime
