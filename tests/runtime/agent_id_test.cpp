// AgentId parsing and validation.
#include "runtime/agent-id.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace chorus::runtime {
namespace {

TEST(AgentId, ParsesTypeAndKey) {
  auto id = AgentId::parse("tool_user/session-7/a");
  EXPECT_EQ(id.type, "tool_user");
  EXPECT_EQ(id.key, "session-7/a");
  EXPECT_EQ(id.str(), "tool_user/session-7/a");
  EXPECT_EQ(AgentId::parse(id.str()), id);
}

TEST(AgentId, RejectsMalformedIdsWithTheFix) {
  try {
    AgentId::parse("echo");
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected 'type/key'"), std::string::npos);
  }
  EXPECT_THROW(AgentId::parse("echo/"), std::invalid_argument);
  EXPECT_THROW(AgentId::parse("/key"), std::invalid_argument);
  EXPECT_THROW(AgentId::parse("9lives/key"), std::invalid_argument);
  EXPECT_THROW(AgentId::parse("a b/key"), std::invalid_argument);
  EXPECT_THROW(AgentId::parse(std::string("echo/k\x01")), std::invalid_argument);
}

TEST(AgentId, OrdersByTypeThenKey) {
  EXPECT_LT(AgentId::parse("a/z"), AgentId::parse("b/a"));
  EXPECT_LT(AgentId::parse("a/a"), AgentId::parse("a/b"));
}

}  // namespace
}  // namespace chorus::runtime
