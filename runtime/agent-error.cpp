#include "runtime/agent-error.h"

#include <array>
#include <utility>

namespace chorus::runtime {
namespace {
constexpr std::array<std::pair<StatusCode, const char*>, 9> kNames{{
    {StatusCode::ok, "ok"},
    {StatusCode::not_found, "not_found"},
    {StatusCode::invalid_argument, "invalid_argument"},
    {StatusCode::deadline_exceeded, "deadline_exceeded"},
    {StatusCode::cancelled, "cancelled"},
    {StatusCode::unavailable, "unavailable"},
    {StatusCode::unauthenticated, "unauthenticated"},
    {StatusCode::resource_exhausted, "resource_exhausted"},
    {StatusCode::failed, "failed"},
}};
}  // namespace

const char* to_string(StatusCode code) {
  for (const auto& [c, name] : kNames)
    if (c == code) return name;
  return "failed";
}

StatusCode status_from_string(std::string_view text) {
  for (const auto& [c, name] : kNames)
    if (text == name) return c;
  return StatusCode::failed;
}

}  // namespace chorus::runtime
