// The server-sent events parser: events split at every possible byte boundary, line endings, comments, fields.
#include "agents/sse-parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::agents {
namespace {

std::vector<SseEvent> parse_in_pieces(const std::string& stream, std::size_t piece, bool finish = true) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  for (std::size_t i = 0; i < stream.size(); i += piece) parser.feed(std::string_view(stream).substr(i, piece));
  if (finish) parser.finish();
  return events;
}

std::vector<std::string> data_of(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const SseEvent& e : events) out.push_back(e.data);
  return out;
}

TEST(SseParser, SameEventsWhateverTheChunkBoundaries) {
  const std::string stream =
      ": keep-alive\n\ndata: {\"a\": 1}\n\nevent: update\ndata:first\ndata: second\n\nid: 7\nretry: 100\n\n"
      "data: [DONE]\n\n";
  const std::vector<std::string> expected = {"{\"a\": 1}", "first\nsecond", "[DONE]"};
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    const auto events = parse_in_pieces(stream, piece);
    EXPECT_EQ(data_of(events), expected) << "piece size " << piece;
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[1].name, "update");
    EXPECT_EQ(events[0].name, "");
  }
}

TEST(SseParser, CrLfAndBareCrLineEndsSplitAnywhere) {
  const std::string crlf = "data: one\r\n\r\ndata: two\r\n\r\n";
  const std::string cr = "data: one\r\rdata: two\r\r";
  for (std::size_t piece = 1; piece <= crlf.size(); ++piece)
    EXPECT_EQ(data_of(parse_in_pieces(crlf, piece)), (std::vector<std::string>{"one", "two"})) << piece;
  for (std::size_t piece = 1; piece <= cr.size(); ++piece)
    EXPECT_EQ(data_of(parse_in_pieces(cr, piece)), (std::vector<std::string>{"one", "two"})) << piece;
}

TEST(SseParser, UnterminatedLastEventIsDispatchedOnlyAtFinish) {
  const std::string stream = "data: whole\n\ndata: [DONE]";
  EXPECT_EQ(data_of(parse_in_pieces(stream, 4, false)), std::vector<std::string>{"whole"});
  EXPECT_EQ(data_of(parse_in_pieces(stream, 4, true)), (std::vector<std::string>{"whole", "[DONE]"}));
}

TEST(SseParser, BlankLinesWithoutDataDispatchNothing) {
  SseParser parser([](const SseEvent&) { FAIL() << "no event expected"; });
  parser.feed("\n\n: comment\n\nevent: ping\n\n");
  parser.finish();
  EXPECT_EQ(parser.events_dispatched(), 0u);
}

TEST(SseParser, FieldWithoutColonAndValueWithoutSpace) {
  EXPECT_EQ(data_of(parse_in_pieces("data\ndata:x\ndata:  y\n\n", 3)), std::vector<std::string>{"\nx\n y"});
}

}  // namespace
}  // namespace chorus::agents
