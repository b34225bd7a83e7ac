#include "runtime/agent-id.h"

#include <cctype>
#include <stdexcept>

namespace chorus::runtime {

bool is_valid_agent_type(std::string_view name) {
  if (name.empty()) return false;
  auto c0 = static_cast<unsigned char>(name[0]);
  if (!std::isalpha(c0) && c0 != '_') return false;
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

AgentId AgentId::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    throw std::invalid_argument("agent id '" + std::string(text) + "': expected 'type/key', e.g. 'echo/default'");
  AgentId id{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
  if (!is_valid_agent_type(id.type))
    throw std::invalid_argument("agent id '" + std::string(text) + "': type '" + id.type +
                                "' must match [A-Za-z_][A-Za-z0-9_.-]*");
  if (id.key.empty())
    throw std::invalid_argument("agent id '" + std::string(text) + "': key is empty; use e.g. 'default'");
  for (char ch : id.key)
    if (static_cast<unsigned char>(ch) < 0x20)
      throw std::invalid_argument("agent id '" + std::string(text) + "': key contains a control character");
  return id;
}

}  // namespace chorus::runtime
