// The flow executor: walks a workflow's steps over an AgentRuntime, checkpointing each (step, iteration) in the
// run store so a failed, interrupted or waiting run resumes where it stopped, and a finished run can be replayed.
#include "runtime/workflow-engine.h"

#include "runtime/agent-error.h"
#include "runtime/event-summary.h"
#include "runtime/run-journal.h"
#include "runtime/task-message.h"
#include "runtime/workflow-expression.h"
#include "tools/json-schema.h"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace chorus::runtime {

using Json = nlohmann::json;
using SystemClock = std::chrono::system_clock;

namespace {

// The sinks of runs in progress, by run id (the journal provider routes agents' llm/tool events to them).
class RunSinks {
 public:
  // Registers a run in progress; false when that run is already in progress here (a second resume of it).
  bool add(const std::string& run_id, RunEventSink sink) {
    std::lock_guard lock(mutex_);
    return sinks_.emplace(run_id, std::move(sink)).second;
  }
  void remove(const std::string& run_id) {
    std::lock_guard lock(mutex_);
    sinks_.erase(run_id);
  }
  RunEventSink find(const std::string& run_id) const {
    std::lock_guard lock(mutex_);
    auto it = sinks_.find(run_id);
    return it == sinks_.end() ? RunEventSink{} : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, RunEventSink> sinks_;
};

}  // namespace

struct WorkflowEngine::LiveRuns : RunSinks {};

namespace {

enum class Mode { fresh, resume, replay };

constexpr auto kReplyGrace = std::chrono::seconds(2);  // how long past its deadline a reply is still awaited

double now_unix_ms() {
  return std::chrono::duration<double, std::milli>(SystemClock::now().time_since_epoch()).count();
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%gs", seconds);
  return buffer;
}

// Why a run stops before its flow ends: a failed step (state "failed") or an unanswered human_input ("waiting").
class RunStopped : public std::runtime_error {
 public:
  RunStopped(std::string state, const std::string& why) : std::runtime_error(why), state_(std::move(state)) {}
  const std::string& state() const { return state_; }

 private:
  std::string state_;
};

// Where a run's events go: the store and the caller's sink, one event at a time (parallel branches and agents on
// executor threads report concurrently). After close(), late events (an abandoned agent finishing) are dropped.
class EventChannel {
 public:
  EventChannel(RunStore& store, std::string run_id, RunEventSink sink)
      : store_(store), run_id_(std::move(run_id)), sink_(std::move(sink)) {}

  // Stores `event` and passes it to the sink.
  void emit(RunEvent event) {
    event.run_id = run_id_;
    if (event.time_unix_ms == 0) event.time_unix_ms = now_unix_ms();
    std::lock_guard lock(mutex_);
    if (!open_) return;
    store_.append_event(event);
    if (sink_) sink_(event);
  }
  // Passes an event the journal already stored to the sink.
  void forward(const RunEvent& event) {
    std::lock_guard lock(mutex_);
    if (open_ && sink_) sink_(event);
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  std::mutex mutex_;
  RunStore& store_;
  std::string run_id_;
  RunEventSink sink_;
  bool open_ = true;
};

RunEvent make_event(std::string type, const std::string& step = "", int iteration = 0) {
  RunEvent event;
  event.type = std::move(type);
  event.step = step;
  event.iteration = iteration;
  return event;
}

std::string step_label(const std::string& step, int iteration) { return step + "#" + std::to_string(iteration); }

std::string attempts_text(int attempts) {
  return std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
}

// Sends `message` and waits for the reply. The runtime enforces the deadline; should a reply still not come
// shortly after it, the step gives up waiting (deadline_exceeded) so a stuck agent cannot hang the run.
Json send_and_wait_until(AgentRuntime& runtime, Message message) {
  auto reply = std::make_shared<std::promise<Json>>();
  auto future = reply->get_future();
  const auto deadline = message.deadline;
  const bool has_deadline = message.has_deadline();
  const std::string recipient = message.recipient ? message.recipient->str() : "?";
  boost::asio::co_spawn(runtime.executor(), runtime.send(std::move(message)),
                        [reply](std::exception_ptr error, Json value) {
                          if (error)
                            reply->set_exception(error);
                          else
                            reply->set_value(std::move(value));
                        });
  if (has_deadline && future.wait_until(deadline + kReplyGrace) == std::future_status::timeout)
    throw AgentError(StatusCode::deadline_exceeded, "no reply from " + recipient + " before the step's deadline");
  return future.get();
}

// Walks one execution of a run's flow. Thread-safe where parallel branches meet (scope, tokens, record).
class FlowRunner {
 public:
  FlowRunner(AgentRuntime& runtime, RunStore& store, const WorkflowSpec& spec, RunRecord& record, Mode mode,
             std::map<std::string, std::string> answers, EventChannel& events)
      : runtime_(runtime), store_(store), spec_(spec), record_(record), mode_(mode), answers_(std::move(answers)),
        events_(events) {
    scope_ = {{"inputs", record.inputs.is_object() ? record.inputs : Json::object()},
              {"outputs", Json::object()},
              {"iterations", Json::object()}};
    if (spec.budgets.timeout_s > 0)
      run_deadline_ = SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(
                                               std::chrono::duration<double>(spec.budgets.timeout_s));
    record_.prompt_tokens = 0;
    record_.completion_tokens = 0;
  }

  // Runs the flow from its start until it ends; throws RunStopped when a step fails or waits.
  void run() {
    std::string current = spec_.flow.start;
    while (!current.empty() && current != "end") {
      const StepSpec& step = step_spec(current);
      run_step(current);
      current = next_step(step);
    }
  }

  // {step: latest output} for every step that ran.
  Json outputs() const {
    std::lock_guard lock(mutex_);
    return scope_["outputs"];
  }

 private:
  const StepSpec& step_spec(const std::string& name) const {
    auto it = spec_.flow.steps.find(name);
    if (it == spec_.flow.steps.end())
      throw RunStopped("failed", "the flow names step '" + name + "', which the workflow does not define");
    return it->second;
  }

  static std::string task_name(const StepSpec& step) { return step.task.empty() ? step.name : step.task; }

  Json snapshot() const {
    std::lock_guard lock(mutex_);
    return scope_;
  }

  // Runs one execution of step `name` (any kind) and returns its output.
  Json run_step(const std::string& name) {
    const StepSpec& step = step_spec(name);
    int iteration = 0;
    {
      std::lock_guard lock(mutex_);
      iteration = ++iterations_[name];
      scope_["iterations"][name] = iteration;
    }
    if (step.kind == StepSpec::Kind::parallel) return run_parallel(step, iteration);
    if (mode_ == Mode::resume)
      if (auto checkpoint = store_.find_step(record_.id, name, iteration); checkpoint && checkpoint->state == "done")
        return reuse_checkpoint(step, *checkpoint);

    StepRecord rec;
    rec.run_id = record_.id;
    rec.step = name;
    rec.iteration = iteration;
    rec.state = "running";
    rec.started_unix_ms = now_unix_ms();
    if (step.kind == StepSpec::Kind::human_input) return run_human_input(step, rec);
    return run_task(step, rec);
  }

  Json reuse_checkpoint(const StepSpec& step, const StepRecord& checkpoint) {
    RunEvent event = make_event("step_finished", step.name, checkpoint.iteration);
    event.state = "done";
    event.elapsed_ms = std::max(0.0, checkpoint.finished_unix_ms - checkpoint.started_unix_ms);
    event.prompt_tokens = checkpoint.prompt_tokens;
    event.completion_tokens = checkpoint.completion_tokens;
    event.data = {{"from_checkpoint", true}, {"attempts", checkpoint.attempts},
                  {"output", summarize_json(checkpoint.output)}};
    events_.emit(event);
    publish(step, checkpoint.output);
    add_tokens(step, checkpoint);
    return checkpoint.output;
  }

  void publish(const StepSpec& step, const Json& output) {
    std::lock_guard lock(mutex_);
    scope_["outputs"][step.name] = output;
    if (step.kind == StepSpec::Kind::task) task_outputs_[task_name(step)] = output;
  }

  // Adds a finished step's tokens to the run and fails the run when the token budget is exceeded.
  void add_tokens(const StepSpec& step, const StepRecord& rec) {
    long long used = 0;
    {
      std::lock_guard lock(mutex_);
      record_.prompt_tokens += rec.prompt_tokens;
      record_.completion_tokens += rec.completion_tokens;
      used = record_.prompt_tokens + record_.completion_tokens;
      if (rec.prompt_tokens || rec.completion_tokens) store_.update_run(record_);
    }
    const long long budget = spec_.budgets.max_tokens;
    if (budget <= 0 || used <= budget) return;
    std::string why = "resource_exhausted: token budget exceeded after step " + step_label(step.name, rec.iteration) +
                      ": " + std::to_string(used) + " tokens used, budgets.max_tokens is " + std::to_string(budget);
    RunEvent event = make_event("budget_exceeded", step.name, rec.iteration);
    event.prompt_tokens = rec.prompt_tokens;
    event.completion_tokens = rec.completion_tokens;
    event.data = {{"budget", "max_tokens"}, {"limit", budget}, {"used", used}, {"error", why}};
    events_.emit(event);
    throw RunStopped("failed", why);
  }

  long long tokens_left() const {
    if (spec_.budgets.max_tokens <= 0) return 0;
    std::lock_guard lock(mutex_);
    return std::max(1LL, spec_.budgets.max_tokens - record_.prompt_tokens - record_.completion_tokens);
  }

  void emit_started(const StepRecord& rec, Json data) {
    RunEvent event = make_event("step_started", rec.step, rec.iteration);
    event.state = "running";
    event.data = std::move(data);
    events_.emit(event);
  }

  void emit_finished(const StepRecord& rec, Json data) {
    RunEvent event = make_event("step_finished", rec.step, rec.iteration);
    event.state = rec.state;
    event.elapsed_ms = std::max(0.0, rec.finished_unix_ms - rec.started_unix_ms);
    event.prompt_tokens = rec.prompt_tokens;
    event.completion_tokens = rec.completion_tokens;
    event.data = std::move(data);
    if (!rec.error.empty()) event.data["error"] = rec.error;
    events_.emit(event);
  }

  // Records a step as failed and stops the run.
  [[noreturn]] void fail_step(StepRecord& rec, const std::string& why) {
    rec.state = "failed";
    rec.error = why;
    rec.finished_unix_ms = now_unix_ms();
    store_.save_step(rec);
    emit_finished(rec, {{"attempts", rec.attempts}});
    {
      std::lock_guard lock(mutex_);
      record_.prompt_tokens += rec.prompt_tokens;
      record_.completion_tokens += rec.completion_tokens;
    }
    throw RunStopped("failed", why);
  }

  bool run_deadline_passed() const { return run_deadline_ && SystemClock::now() >= *run_deadline_; }

  // The deadline of one attempt: the step timeout from now, cut by the run's deadline (the epoch: none).
  SystemClock::time_point attempt_deadline(double step_timeout_s) const {
    SystemClock::time_point deadline{};
    if (step_timeout_s > 0)
      deadline = SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(
                                          std::chrono::duration<double>(step_timeout_s));
    if (run_deadline_ && (deadline == SystemClock::time_point{} || *run_deadline_ < deadline))
      deadline = *run_deadline_;
    return deadline;
  }

  std::string run_timeout_text() const {
    return "deadline_exceeded: the run's time budget (budgets.timeout_s = " + seconds_text(spec_.budgets.timeout_s) +
           ") ran out";
  }

  Json run_task(const StepSpec& step, StepRecord& rec) {
    auto task_it = spec_.tasks.find(task_name(step));
    if (task_it == spec_.tasks.end())
      fail_step(rec, "step " + step_label(step.name, rec.iteration) + " runs task '" + task_name(step) +
                         "', which the workflow does not define");
    const TaskSpec& task = task_it->second;
    const Json scope = snapshot();

    TaskRequest request;
    request.task = task.name;
    try {
      request.description = interpolate(task.description, scope);
      request.expected_output = interpolate(task.expected_output, scope);
    } catch (const std::exception& e) {
      fail_step(rec, "step " + step_label(step.name, rec.iteration) + ": cannot fill in task '" + task.name + "' (" +
                         task.pos.str() + "): " + e.what());
    }
    if (task.output_schema) request.output_schema = *task.output_schema;
    {
      std::lock_guard lock(mutex_);
      for (const auto& name : task.context)
        if (auto it = task_outputs_.find(name); it != task_outputs_.end()) request.context.push_back({name, it->second});
    }
    request.inputs = scope["inputs"];
    request.tokens_left = tokens_left();
    rec.input = request.to_json();
    store_.save_step(rec);
    emit_started(rec, {{"agent", task.agent}, {"task", task.name}});

    std::optional<tools::JsonSchema> schema;
    if (task.output_schema) try {
        schema.emplace(*task.output_schema);
      } catch (const std::exception& e) {
        fail_step(rec, "task '" + task.name + "' (" + task.pos.str() + "): output_schema is not a valid JSON Schema: " +
                           e.what());
      }

    // One instance per run and step: parallel branches on the same agent run at once, each with fresh state.
    const AgentId agent{task.agent, record_.id + "/" + step.name};
    const int attempts_allowed = 1 + std::max(0, step.retries);
    const double step_timeout_s = step.timeout_s > 0 ? step.timeout_s : spec_.budgets.step_timeout_s;
    std::string last_error;
    bool succeeded = false;
    for (int attempt = 1; attempt <= attempts_allowed && !succeeded; ++attempt) {
      rec.attempts = attempt;
      if (run_deadline_passed()) {
        last_error = run_timeout_text();
        break;
      }
      Message message = make_request(agent, rec.input);
      message.trace_id = record_.id;
      message.metadata[std::string(kEffectScopeKey)] = step_label(step.name, rec.iteration);
      message.deadline = attempt_deadline(step_timeout_s);

      RunEvent sent = make_event("message", step.name, rec.iteration);
      sent.data = {{"direction", "request"}, {"to", agent.str()}, {"attempt", attempt},
                   {"summary", one_line(request.description)}};
      events_.emit(sent);

      bool retryable = true;
      try {
        TaskReply reply = TaskReply::from_json(send_and_wait_until(runtime_, std::move(message)));
        rec.prompt_tokens += reply.prompt_tokens;
        rec.completion_tokens += reply.completion_tokens;
        RunEvent received = make_event("message", step.name, rec.iteration);
        received.prompt_tokens = reply.prompt_tokens;
        received.completion_tokens = reply.completion_tokens;
        received.data = {{"direction", "reply"}, {"from", agent.str()}, {"attempt", attempt},
                         {"summary", summarize_json(reply.output)}};
        events_.emit(received);

        Json output = std::move(reply.output);
        if (schema) {
          // A model often answers with the JSON as text: check the value it spells.
          if (output.is_string()) {
            Json parsed = Json::parse(output.get<std::string>(), nullptr, false);
            if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) output = std::move(parsed);
          }
          auto errors = schema->validate(output);
          if (!errors.empty()) {
            // The same scope replays the same recorded model answer, so another attempt would fail alike.
            retryable = false;
            last_error = "invalid_argument: the output of task '" + task.name + "' does not match its output_schema (" +
                         task.pos.str() + "): " + tools::join_errors(errors);
          } else {
            rec.output = std::move(output);
            succeeded = true;
          }
        } else {
          rec.output = std::move(output);
          succeeded = true;
        }
      } catch (const AgentError& e) {
        last_error = std::string(to_string(e.code())) + ": " + e.what();
        retryable = e.code() != StatusCode::invalid_argument && e.code() != StatusCode::resource_exhausted &&
                    e.code() != StatusCode::cancelled;
      } catch (const std::exception& e) {
        last_error = std::string("failed: ") + e.what();
      }
      if (succeeded || !retryable || attempt == attempts_allowed) break;

      double delay_s = spec_.budgets.backoff_s * std::pow(2.0, attempt - 1);
      RunEvent retry = make_event("log", step.name, rec.iteration);
      retry.data = {{"message", "attempt " + std::to_string(attempt) + " failed (" + last_error + "); retrying in " +
                                    seconds_text(delay_s)},
                    {"attempt", attempt}};
      events_.emit(retry);
      auto wake = SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(
                                           std::chrono::duration<double>(std::max(0.0, delay_s)));
      if (run_deadline_ && *run_deadline_ < wake) wake = *run_deadline_;
      std::this_thread::sleep_until(wake);
    }
    if (!succeeded)
      fail_step(rec, "step " + step_label(step.name, rec.iteration) + " failed after " + attempts_text(rec.attempts) +
                         ": " + last_error);

    rec.state = "done";
    rec.finished_unix_ms = now_unix_ms();
    store_.save_step(rec);
    emit_finished(rec, {{"attempts", rec.attempts}, {"output", summarize_json(rec.output)}});
    publish(step, rec.output);
    add_tokens(step, rec);
    return rec.output;
  }

  Json run_human_input(const StepSpec& step, StepRecord& rec) {
    const std::string key = step.input_key.empty() ? step.name : step.input_key;
    std::string prompt = step.prompt;
    try {
      prompt = interpolate(step.prompt, snapshot());
    } catch (const std::exception&) {
      // The prompt as written is still a usable question.
    }
    rec.input = {{"key", key}, {"prompt", prompt}};
    emit_started(rec, {{"human_input", key}});

    std::optional<Json> answer;
    Json data = {{"human_input", key}};
    if (mode_ == Mode::replay) {
      // A replay answers as the recorded run was answered.
      auto recorded = store_.find_step(record_.replay_of, step.name, rec.iteration);
      if (recorded && recorded->state == "done") {
        answer = recorded->output;
        data["from_recording"] = true;
      }
    } else {
      std::lock_guard lock(mutex_);
      // An answer is used by one execution only: a human_input step in a loop asks again next time round.
      if (auto it = answers_.find(key); it != answers_.end()) {
        answer = Json(it->second);
        answers_.erase(it);
      }
    }
    rec.attempts = 1;
    if (answer) {
      rec.state = "done";
      rec.output = *answer;
      rec.finished_unix_ms = now_unix_ms();
      store_.save_step(rec);
      emit_finished(rec, data);
      publish(step, rec.output);
      return rec.output;
    }
    rec.state = "waiting";
    rec.error = "waiting for input '" + key + "': chorus runs resume " + record_.id + " --input " + key + "=VALUE";
    rec.finished_unix_ms = now_unix_ms();
    store_.save_step(rec);
    RunEvent asked = make_event("human_input_requested", step.name, rec.iteration);
    asked.state = "waiting";
    asked.data = {{"key", key}, {"prompt", prompt}, {"resume", "chorus runs resume " + record_.id + " --input " + key + "=VALUE"}};
    events_.emit(asked);
    emit_finished(rec, data);
    throw RunStopped("waiting", rec.error);
  }

  Json run_parallel(const StepSpec& step, int iteration) {
    StepRecord rec;
    rec.run_id = record_.id;
    rec.step = step.name;
    rec.iteration = iteration;
    rec.state = "running";
    rec.started_unix_ms = now_unix_ms();
    rec.input = {{"branches", step.branches}};
    rec.attempts = 1;
    store_.save_step(rec);
    emit_started(rec, {{"branches", step.branches}});

    const size_t n = step.branches.size();
    std::vector<Json> outputs(n);
    std::vector<std::exception_ptr> errors(n);
    {
      std::vector<std::thread> branches;
      branches.reserve(n);
      for (size_t i = 0; i < n; ++i)
        branches.emplace_back([&, i] {
          try {
            outputs[i] = run_step(step.branches[i]);
          } catch (...) {
            errors[i] = std::current_exception();
          }
        });
      for (auto& branch : branches) branch.join();
    }

    // A failed branch fails the step; otherwise an unanswered human_input makes it wait.
    std::exception_ptr failure, waiting;
    for (const auto& error : errors) {
      if (!error) continue;
      try {
        std::rethrow_exception(error);
      } catch (const RunStopped& stopped) {
        if (stopped.state() == "waiting") {
          if (!waiting) waiting = error;
        } else if (!failure) {
          failure = error;
        }
      } catch (...) {
        if (!failure) failure = error;
      }
    }
    if (failure || waiting) {
      std::exception_ptr stop = failure ? failure : waiting;
      rec.state = failure ? "failed" : "waiting";
      try {
        std::rethrow_exception(stop);
      } catch (const std::exception& e) {
        rec.error = e.what();
      } catch (...) {
        rec.error = "a branch failed";
      }
      rec.finished_unix_ms = now_unix_ms();
      store_.save_step(rec);
      emit_finished(rec, {{"branches", step.branches}});
      std::rethrow_exception(stop);
    }

    Json output = Json::object();
    for (size_t i = 0; i < n; ++i) output[step.branches[i]] = outputs[i];
    rec.state = "done";
    rec.output = output;
    rec.finished_unix_ms = now_unix_ms();
    store_.save_step(rec);
    emit_finished(rec, {{"branches", step.branches}});
    publish(step, output);
    return output;
  }

  // The step after `step`: the first edge whose condition holds and whose target may still run; "end" if none.
  std::string next_step(const StepSpec& step) {
    const Json scope = snapshot();
    for (const auto& edge : step.next) {
      if (!edge.when.empty()) {
        bool holds = false;
        try {
          holds = Expression::parse(edge.when).holds(scope);
        } catch (const std::exception& e) {
          throw RunStopped("failed", "step " + step.name + ": cannot evaluate `when: " + edge.when + "` (" +
                                         edge.pos.str() + "): " + e.what());
        }
        if (!holds) continue;
      }
      if (edge.target == "end") return "end";
      auto target = spec_.flow.steps.find(edge.target);
      if (target == spec_.flow.steps.end())
        throw RunStopped("failed", "step " + step.name + " goes to step '" + edge.target + "', which does not exist");
      int runs = 0;
      {
        std::lock_guard lock(mutex_);
        runs = iterations_[edge.target];
      }
      if (runs >= target->second.max_iterations) {
        RunEvent skipped = make_event("log", step.name, runs);
        skipped.data = {{"message", "step " + edge.target + " reached max_iterations " +
                                        std::to_string(target->second.max_iterations) + "; trying the next edge"}};
        events_.emit(skipped);
        continue;
      }
      return edge.target;
    }
    return "end";
  }

  AgentRuntime& runtime_;
  RunStore& store_;
  const WorkflowSpec& spec_;
  RunRecord& record_;
  const Mode mode_;
  std::map<std::string, std::string> answers_;
  EventChannel& events_;
  std::optional<SystemClock::time_point> run_deadline_;

  mutable std::mutex mutex_;  // guards everything below and record_'s token counts
  Json scope_;
  std::map<std::string, int> iterations_;
  std::map<std::string, Json> task_outputs_;  // task name -> latest output of a step that ran it
};

std::string output_text(const Json* value) {
  return value ? summarize_json(*value, 120) : std::string("nothing (the step did not run)");
}

// "" when a replay's outputs equal the recording's; else where and how they differ first.
std::string replay_difference(const WorkflowSpec& spec, const std::string& original_id, const Json& recorded,
                              const Json& replayed) {
  std::vector<std::string> names = spec.flow.order;
  std::set<std::string> seen(names.begin(), names.end());
  for (const Json* outputs : {&recorded, &replayed})
    if (outputs->is_object())
      for (const auto& item : outputs->items())
        if (seen.insert(item.key()).second) names.push_back(item.key());
  for (const auto& name : names) {
    const Json* a = recorded.is_object() && recorded.contains(name) ? &recorded[name] : nullptr;
    const Json* b = replayed.is_object() && replayed.contains(name) ? &replayed[name] : nullptr;
    if (!a && !b) continue;
    if (a && b && *a == *b) continue;
    return "replay differs from run " + original_id + " at step " + name + ": recorded " + output_text(a) +
           ", replay gave " + output_text(b);
  }
  return "";
}

WorkflowSpec parse_stored(const RunRecord& record) {
  try {
    return WorkflowSpec::parse(record.workflow_yaml, record.workflow_file);
  } catch (const WorkflowError& e) {
    throw std::runtime_error("run " + record.id + ": its stored workflow (" + record.workflow_file +
                             ") no longer parses: " + e.what());
  }
}

// Runs (or continues) `record` to its end, a failure or a wait; stores and returns the final record.
RunRecord execute(AgentRuntime& runtime, RunStore& store, RunSinks& live, const WorkflowSpec& spec, RunRecord record,
                  Mode mode, const std::map<std::string, std::string>& answers, const RunEventSink& on_event) {
  auto events = std::make_shared<EventChannel>(store, record.id, on_event);
  if (!live.add(record.id, [events](const RunEvent& event) { events->forward(event); })) {
    events->close();
    throw std::runtime_error("run " + record.id + " is still running here; wait for it to end (`chorus runs show " +
                             record.id + "`) before resuming it");
  }
  struct Finish {
    RunSinks& live;
    const std::string id;
    std::shared_ptr<EventChannel> events;
    ~Finish() {
      live.remove(id);
      events->close();
    }
  } finish{live, record.id, events};

  const auto started = std::chrono::steady_clock::now();
  record.state = "running";
  record.error.clear();
  record.outputs = Json();
  store.update_run(record);

  RunEvent begun = make_event("run_started");
  begun.state = "running";
  begun.data = {{"workflow", spec.name}, {"file", record.workflow_file}, {"inputs", record.inputs}};
  if (mode == Mode::resume) begun.data["resumed"] = true;
  if (!record.replay_of.empty()) begun.data["replay_of"] = record.replay_of;
  events->emit(begun);

  FlowRunner runner(runtime, store, spec, record, mode, answers, *events);
  try {
    runner.run();
    record.state = "done";
    record.outputs = runner.outputs();
    if (!record.replay_of.empty()) {
      auto original = store.find_run(record.replay_of);
      std::string difference =
          original ? replay_difference(spec, original->id, original->outputs, record.outputs)
                   : "the recorded run " + record.replay_of + " is no longer in the store";
      if (!difference.empty()) {
        record.state = "failed";
        record.error = difference;
      }
    }
  } catch (const RunStopped& stopped) {
    record.state = stopped.state();
    record.error = stopped.what();
  } catch (const std::exception& e) {
    record.state = "failed";
    record.error = std::string("internal error: ") + e.what();
  }
  record.updated_unix_ms = now_unix_ms();
  store.update_run(record);

  RunEvent ended = make_event("run_finished");
  ended.state = record.state;
  ended.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ended.prompt_tokens = record.prompt_tokens;
  ended.completion_tokens = record.completion_tokens;
  ended.data = Json::object();
  if (!record.error.empty()) ended.data["error"] = record.error;
  events->emit(ended);
  return store.find_run(record.id).value_or(record);
}

}  // namespace

WorkflowEngine::WorkflowEngine(AgentRuntime& runtime, RunStore& store)
    : runtime_(runtime), store_(store), live_(std::make_shared<LiveRuns>()) {
  runtime_.set_journal_provider([&store, live = live_](const Message& message) -> std::shared_ptr<EffectJournal> {
    if (message.trace_id.empty()) return nullptr;
    return journal_for_run(store, message.trace_id, live->find(message.trace_id));
  });
}

RunRecord WorkflowEngine::start(const WorkflowSpec& spec, const std::string& yaml_text, const nlohmann::json& inputs,
                                const RunEventSink& on_event, const std::string& run_id) {
  RunRecord record;
  record.id = run_id.empty() ? new_message_id() : run_id;
  record.workflow_name = spec.name;
  record.workflow_file = spec.file;
  record.workflow_yaml = yaml_text;
  record.inputs = inputs.is_object() ? inputs : Json::object();
  record.state = "running";
  store_.create_run(record);
  return execute(runtime_, store_, *live_, spec, std::move(record), Mode::fresh, {}, on_event);
}

RunRecord WorkflowEngine::resume(const std::string& run_id, const std::map<std::string, std::string>& human_inputs,
                                 const RunEventSink& on_event) {
  RunRecord record = store_.resolve_run(run_id);
  if (record.state == "done")
    throw std::runtime_error("run " + record.id + " is done; nothing to resume (`chorus runs replay " + record.id +
                             "` re-executes it)");
  WorkflowSpec spec = parse_stored(record);
  std::set<std::string> keys;
  for (const auto& [name, step] : spec.flow.steps)
    if (step.kind == StepSpec::Kind::human_input) keys.insert(step.input_key.empty() ? name : step.input_key);
  for (const auto& [key, value] : human_inputs)
    if (!keys.count(key)) {
      std::string known;
      for (const auto& k : keys) known.append(known.empty() ? "" : ", ").append(k);
      throw std::invalid_argument("run " + record.id + ": no human_input step takes --input " + key + " (" +
                                  (known.empty() ? std::string("the workflow asks for no input")
                                                 : "its keys: " + known) +
                                  ")");
    }
  return execute(runtime_, store_, *live_, spec, std::move(record), Mode::resume, human_inputs, on_event);
}

RunRecord WorkflowEngine::replay(const std::string& run_id, const RunEventSink& on_event) {
  RunRecord original = store_.resolve_run(run_id);
  if (original.state != "done")
    throw std::runtime_error("run " + original.id + " is " + original.state +
                             "; only a done run can be replayed (its recording is incomplete: `chorus runs resume " +
                             original.id + "` finishes it first)");
  WorkflowSpec spec = parse_stored(original);
  RunRecord record;
  record.id = new_message_id();
  record.workflow_name = original.workflow_name;
  record.workflow_file = original.workflow_file;
  record.workflow_yaml = original.workflow_yaml;
  record.inputs = original.inputs;
  record.replay_of = original.id;
  record.state = "running";
  store_.create_run(record);
  return execute(runtime_, store_, *live_, spec, std::move(record), Mode::replay, {}, on_event);
}

}  // namespace chorus::runtime
