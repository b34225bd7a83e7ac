#include "runtime/progress-display.h"

#include "runtime/event-summary.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace chorus::runtime {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);  // at most ~10 redraws a second
const char* const kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

double now_unix_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// "12:00:01" in local time.
std::string clock_text(double unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm local{};
  localtime_r(&seconds, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

// "340ms", "1.2s", "2m05s".
std::string duration_text(double ms) {
  char buffer[32];
  if (ms < 1000)
    std::snprintf(buffer, sizeof buffer, "%.0fms", ms);
  else if (ms < 60000)
    std::snprintf(buffer, sizeof buffer, "%.1fs", ms / 1000);
  else
    std::snprintf(buffer, sizeof buffer, "%lldm%02llds", static_cast<long long>(ms / 60000),
                  static_cast<long long>(ms / 1000) % 60);
  return buffer;
}

std::string tokens_text(long long tokens) { return tokens ? std::to_string(tokens) + " tokens" : ""; }

std::string label(const RunEvent& event) {
  return event.iteration ? event.step + "#" + std::to_string(event.iteration) : event.step;
}

std::string data_text(const RunEvent& event, const char* key) {
  if (!event.data.is_object()) return "";
  auto it = event.data.find(key);
  if (it == event.data.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string short_id(const std::string& run_id) { return run_id.substr(0, 8); }

// What an llm_call / tool_call was, for a step's line: "llm 0.8s" or "tool calculator 12ms".
std::string call_text(const RunEvent& event) {
  std::string text = event.type == "llm_call" ? "llm" : "tool";
  std::string name = data_text(event, "name");
  if (!name.empty()) text.append(" ").append(name);
  text.append(" ").append(duration_text(event.elapsed_ms));
  if (event.data.is_object() && event.data.value("replayed", false)) text.append(" (recorded)");
  return text;
}

// `text` cut to `width` columns (counting UTF-8 code points as one column each).
std::string fit(const std::string& text, int width) {
  int columns = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (++columns > width) return text.substr(0, i);
  }
  return text;
}

int terminal_width() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 10) return size.ws_col;
  return 100;
}

std::string pad(std::string text, size_t width) {
  size_t columns = 0;
  for (char c : text) columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (columns < width) text.append(width - columns, ' ');
  return text;
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::ostream& out, bool live) : out_(out), live_(live) {
  if (live_) thread_ = std::thread([this] { ticker(); });
}

ProgressDisplay::~ProgressDisplay() { finish(); }

RunEventSink ProgressDisplay::sink() {
  return [this](const RunEvent& event) { on_event(event); };
}

void ProgressDisplay::finish() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (live_ && dirty_) redraw_locked();
}

ProgressDisplay::StepLine& ProgressDisplay::line_for(const RunEvent& event) {
  std::string name = label(event);
  for (auto& line : lines_)
    if (line.label == name) return line;
  StepLine line;
  line.label = name;
  line.started_unix_ms = event.time_unix_ms ? event.time_unix_ms : now_unix_ms();
  lines_.push_back(line);
  return lines_.back();
}

void ProgressDisplay::on_event(const RunEvent& event) {
  std::lock_guard lock(mutex_);
  if (!live_ || stopping_) {
    plain(event);
    return;
  }
  const std::string& type = event.type;
  if (type == "run_started") {
    header_ = "run " + short_id(event.run_id) + " " + data_text(event, "workflow");
    if (!data_text(event, "replay_of").empty()) header_ += " (replay of " + short_id(data_text(event, "replay_of")) + ")";
    if (event.data.is_object() && event.data.value("resumed", false)) header_ += " (resumed)";
    run_state_ = "running";
    run_started_unix_ms_ = event.time_unix_ms ? event.time_unix_ms : now_unix_ms();
  } else if (type == "step_started") {
    StepLine& line = line_for(event);
    line.state = "running";
    line.started_unix_ms = event.time_unix_ms ? event.time_unix_ms : now_unix_ms();
  } else if (type == "step_finished") {
    StepLine& line = line_for(event);
    line.state = event.state;
    line.elapsed_ms = event.elapsed_ms;
    line.tokens = event.prompt_tokens + event.completion_tokens;
    run_tokens_ += line.tokens;
    if (event.data.is_object() && event.data.value("from_checkpoint", false)) line.note = "from checkpoint";
    if (!data_text(event, "error").empty()) line.note = one_line(data_text(event, "error"), 200);
  } else if (type == "llm_call" || type == "tool_call") {
    if (!event.step.empty()) line_for(event).note = call_text(event) + ": " + data_text(event, "request");
  } else if (type == "human_input_requested") {
    notices_.push_back("waiting for input '" + data_text(event, "key") + "': " + data_text(event, "prompt"));
    notices_.push_back("  " + data_text(event, "resume"));
  } else if (type == "budget_exceeded") {
    notices_.push_back("budget exceeded: " + data_text(event, "error"));
  } else if (type == "run_finished") {
    run_state_ = event.state;
    header_ += "  " + event.state + " " + duration_text(event.elapsed_ms);
    if (!data_text(event, "error").empty()) notices_.push_back(event.state + ": " + data_text(event, "error"));
    dirty_ = true;
    redraw_locked();
    return;
  } else {
    return;
  }
  dirty_ = true;
}

void ProgressDisplay::plain(const RunEvent& event) {
  const std::string at = clock_text(event.time_unix_ms ? event.time_unix_ms : now_unix_ms()) + " ";
  const std::string& type = event.type;
  std::string text;
  if (type == "run_started") {
    text = "run " + event.run_id + " started: " + data_text(event, "workflow");
    if (!data_text(event, "replay_of").empty()) text += " (replay of " + data_text(event, "replay_of") + ")";
    if (event.data.is_object() && event.data.value("resumed", false)) text += " (resumed)";
  } else if (type == "step_started") {
    text = label(event) + " started";
    if (!data_text(event, "agent").empty()) text += " (agent " + data_text(event, "agent") + ")";
  } else if (type == "step_finished") {
    text = label(event) + " " + event.state + " " + duration_text(event.elapsed_ms);
    std::string tokens = tokens_text(event.prompt_tokens + event.completion_tokens);
    if (!tokens.empty()) text += " " + tokens;
    if (event.data.is_object() && event.data.value("from_checkpoint", false)) text += " (from checkpoint)";
    if (!data_text(event, "error").empty()) text += ": " + data_text(event, "error");
  } else if (type == "llm_call" || type == "tool_call") {
    text = label(event) + " " + call_text(event);
    std::string tokens = tokens_text(event.prompt_tokens + event.completion_tokens);
    if (!tokens.empty()) text += " " + tokens;
  } else if (type == "human_input_requested") {
    text = label(event) + " waiting for input '" + data_text(event, "key") + "': " + data_text(event, "prompt") +
           "\n" + std::string(at.size(), ' ') + data_text(event, "resume");
  } else if (type == "budget_exceeded") {
    text = "budget exceeded: " + data_text(event, "error");
  } else if (type == "log") {
    text = (event.step.empty() ? std::string() : label(event) + " ") + data_text(event, "message");
  } else if (type == "run_finished") {
    text = "run " + event.run_id + " " + event.state + " " + duration_text(event.elapsed_ms);
    std::string tokens = tokens_text(event.prompt_tokens + event.completion_tokens);
    if (!tokens.empty()) text += " " + tokens;
    if (!data_text(event, "error").empty()) text += ": " + data_text(event, "error");
  } else {
    return;  // message events are in the trace, too chatty here
  }
  out_ << at << text << "\n" << std::flush;
}

void ProgressDisplay::redraw_locked() {
  const int width = terminal_width() - 1;
  const double now = now_unix_ms();
  std::vector<std::string> rows;
  {
    std::string head = header_.empty() ? std::string("run") : header_;
    if (run_state_ == "running") head += "  " + duration_text(now - run_started_unix_ms_);
    if (run_tokens_) head += "  " + tokens_text(run_tokens_);
    rows.push_back(head);
  }
  for (const auto& line : lines_) {
    std::string mark = line.state == "done"      ? "\x1b[32m✓\x1b[0m"
                       : line.state == "failed"  ? "\x1b[31m✗\x1b[0m"
                       : line.state == "waiting" ? "\x1b[33m?\x1b[0m"
                       : line.state == "running" ? kSpinner[frame_ % 10]
                                                 : " ";
    double elapsed = line.state == "running" ? now - line.started_unix_ms : line.elapsed_ms;
    std::string row = pad(line.label, 18) + " " + pad(line.state, 8) + " " + pad(duration_text(elapsed), 7) + " " +
                      pad(tokens_text(line.tokens), 12) + " " + line.note;
    while (!row.empty() && row.back() == ' ') row.pop_back();
    // The mark's colour codes take no columns: fit the rest.
    rows.push_back("  " + mark + " " + fit(row, width - 4));
  }
  for (const auto& notice : notices_) rows.push_back(notice);

  std::string frame;
  if (drawn_lines_ > 0) frame += "\x1b[" + std::to_string(drawn_lines_) + "F";
  for (size_t i = 0; i < rows.size(); ++i) {
    frame += "\x1b[2K";
    // The header and notices may be long: cut them too, so no row wraps and the line count stays right.
    frame += i == 0 || i > lines_.size() ? fit(rows[i], width) : rows[i];
    frame += "\n";
  }
  frame += "\x1b[J";
  out_ << frame << std::flush;
  drawn_lines_ = static_cast<int>(rows.size());
  dirty_ = false;
}

void ProgressDisplay::ticker() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kRedrawInterval);
    if (stopping_) break;
    ++frame_;
    bool running = false;
    for (const auto& line : lines_) running = running || line.state == "running";
    if (dirty_ || (running && run_state_ == "running")) redraw_locked();
  }
}

bool stderr_is_terminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDERR_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

}  // namespace chorus::runtime
