#pragma once
// WorkflowSpec: a workflow YAML file, parsed and validated (reference: docs/workflow-yaml.md).
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::runtime {

class AgentKindRegistry;

// Where something was written: file, 1-based line and column.
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  // "file:line:column" (or just "file" when line is 0).
  std::string str() const;
};

// A workflow file that cannot be used: every problem found, each "file:line:column: what is wrong; the fix".
class WorkflowError : public std::runtime_error {
 public:
  explicit WorkflowError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

struct InputSpec {
  std::string name;
  std::string description;
  std::optional<nlohmann::json> default_value;  // absent: the input is required
  SourcePos pos;
};

struct AgentSpec {
  std::string name;                      // the agent type workers host and steps address
  std::string kind = "assistant";        // registered agent kind (assistant, echo, tool_user, inot, ...)
  std::string role, goal, instructions;  // prompt parts (CrewAI-like)
  nlohmann::json llm;                    // {provider: openai|local|scripted, ...}; null when the kind needs none
  std::vector<std::string> tools;        // tool names from the registry
  int max_iter = 10;                     // model turns per task
  nlohmann::json options = nlohmann::json::object();  // kind-specific keys, checked by the kind
  SourcePos pos;

  // Every field as one JSON object (what an agent kind's factory receives).
  nlohmann::json to_json() const;
};

struct TaskSpec {
  std::string name;
  std::string description;      // may contain {var} references
  std::string expected_output;  // may contain {var} references
  std::string agent;            // an AgentSpec name
  std::vector<std::string> context;            // tasks whose outputs are given to this one
  std::optional<nlohmann::json> output_schema; // JSON Schema the output must satisfy
  SourcePos pos;
};

// An edge: go to `target` ("end" finishes the run) when `when` holds (empty: always).
struct EdgeSpec {
  std::string when;
  std::string target;
  SourcePos pos;
};

struct StepSpec {
  enum class Kind { task, human_input, parallel };
  std::string name;
  Kind kind = Kind::task;
  std::string task;                   // task: the TaskSpec to run (defaults to the step name)
  std::string prompt;                 // human_input: what to ask
  std::string input_key;              // human_input: the key `runs resume --input key=value` supplies
  std::vector<std::string> branches;  // parallel: steps run concurrently, joined before `next`
  std::vector<EdgeSpec> next;         // first edge whose condition holds; none: the run ends
  int max_iterations = 1;             // how often the step may run in one run; an edge past it is skipped
  int retries = 0;                    // extra attempts after a failed step (exponential backoff)
  double timeout_s = 0;               // 0: the run's step_timeout_s
  SourcePos pos;
};

struct FlowSpec {
  std::string start;                       // the first step
  std::map<std::string, StepSpec> steps;
  std::vector<std::string> order;          // step names as written
};

struct BudgetSpec {
  long long max_tokens = 0;      // per run, prompt + completion; 0: unlimited
  double timeout_s = 0;          // per run; 0: unlimited
  double step_timeout_s = 600;   // per step attempt
  int retries = 0;               // default extra attempts per step
  double backoff_s = 1;          // first retry delay, doubled each attempt
};

struct WorkflowSpec {
  std::string file;
  std::string name;
  std::string description;
  std::map<std::string, InputSpec> inputs;
  std::map<std::string, AgentSpec> agents;
  std::map<std::string, TaskSpec> tasks;
  FlowSpec flow;  // without `flow:` in the file: the tasks in written order, one after another
  BudgetSpec budgets;
  std::vector<std::string> agent_order, task_order;  // as written
  std::vector<std::string> warnings;  // "file:line:column: warning: ..." (e.g. unreachable steps); parse still succeeds

  // Parses and validates YAML text; throws WorkflowError with every problem found. `kinds` (optional) checks
  // agent kinds and their kind-specific options.
  static WorkflowSpec parse(const std::string& yaml_text, const std::string& file_name,
                            const AgentKindRegistry* kinds = nullptr);
  // Reads and parses a file (an unreadable file is a WorkflowError naming it).
  static WorkflowSpec load(const std::string& path, const AgentKindRegistry* kinds = nullptr);
  // The run inputs: defaults filled in, unknown names and missing required inputs rejected (WorkflowError).
  nlohmann::json resolve_inputs(const std::map<std::string, std::string>& given) const;
};

}  // namespace chorus::runtime
