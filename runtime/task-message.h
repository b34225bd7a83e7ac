#pragma once
// The payloads a workflow step exchanges with its agent: TaskRequest out, TaskReply back (JSON on the wire).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chorus::runtime {

struct TaskContextItem {
  std::string task;
  nlohmann::json output;
};

// What a task step asks its agent to do.
struct TaskRequest {
  std::string task;              // the task's name
  std::string description;       // {var} references already filled in
  std::string expected_output;
  nlohmann::json output_schema;  // null when the task declares none
  std::vector<TaskContextItem> context;  // outputs of the tasks listed in `context:`
  nlohmann::json inputs = nlohmann::json::object();  // the run inputs
  long long tokens_left = 0;     // run token budget remaining; 0: unlimited

  nlohmann::json to_json() const;
  // Throws std::invalid_argument naming the field when `j` is not a task request.
  static TaskRequest from_json(const nlohmann::json& j);
};

// What the agent answers.
struct TaskReply {
  nlohmann::json output;  // text (string) or JSON matching the output schema
  long long prompt_tokens = 0;
  long long completion_tokens = 0;
  int turns = 0;          // model calls made
  int tool_calls = 0;     // tool calls made
  nlohmann::json details; // kind-specific record (per-call usage and timings, rounds, ...); null when none

  nlohmann::json to_json() const;
  // Lenient: a reply without "output" is taken whole as the output (e.g. from the echo agent).
  static TaskReply from_json(const nlohmann::json& j);
};

}  // namespace chorus::runtime
