#include "agents/sse-parser.h"

#include <utility>

namespace chorus::agents {

SseParser::SseParser(EventHandler on_event) : on_event_(std::move(on_event)) {}

void SseParser::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the \n of a \r\n split anywhere
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      take_line(line_);
      line_.clear();
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::finish() {
  if (!line_.empty()) {
    take_line(line_);
    line_.clear();
  }
  after_cr_ = false;
  dispatch();
}

void SseParser::take_line(std::string_view line) {
  if (line.empty()) {
    dispatch();
    return;
  }
  if (line.front() == ':') return;  // comment (keep-alive)
  const auto colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) pending_.data.push_back('\n');
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.name = std::string(value);
  }
}

void SseParser::dispatch() {
  if (has_data_) {
    ++dispatched_;
    SseEvent event = std::move(pending_);
    pending_ = SseEvent();
    has_data_ = false;
    on_event_(event);
  } else {
    pending_ = SseEvent();
  }
}

}  // namespace chorus::agents
