#pragma once
// An incremental parser for server-sent events (text/event-stream), fed arbitrary byte chunks as they arrive.
#include <functional>
#include <string>
#include <string_view>

namespace chorus::agents {

// One dispatched event: its `event:` name ("" when none was given) and its `data:` lines joined with '\n'.
struct SseEvent {
  std::string name;
  std::string data;
};

// Splits a byte stream into events as the SSE specification does: lines end with \n, \r\n or \r (even when a
// chunk boundary falls between \r and \n); "data:" lines accumulate, a blank line dispatches; lines starting
// with ':' are comments; `id:`, `retry:` and unknown fields are ignored.
class SseParser {
 public:
  using EventHandler = std::function<void(const SseEvent& event)>;
  // `on_event` is called once per dispatched event, from inside feed() or finish().
  explicit SseParser(EventHandler on_event);
  // Consumes the next piece of the stream (any size, any boundary).
  void feed(std::string_view bytes);
  // The stream ended: dispatches a last event whose data arrived without the closing blank line (lenient,
  // since some servers end with "data: [DONE]" and no blank line).
  void finish();
  // Events dispatched so far.
  std::size_t events_dispatched() const { return dispatched_; }

 private:
  void take_line(std::string_view line);
  void dispatch();

  EventHandler on_event_;
  std::string line_;        // the current unfinished line
  bool after_cr_ = false;   // the last byte seen was '\r' (a following '\n' belongs to the same line end)
  bool has_data_ = false;   // at least one data: line in the pending event
  SseEvent pending_;
  std::size_t dispatched_ = 0;
};

}  // namespace chorus::agents
