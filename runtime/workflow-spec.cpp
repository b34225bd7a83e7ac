#include "runtime/workflow-spec.h"

#include "runtime/agent-id.h"
#include "runtime/agent-kinds.h"
#include "runtime/workflow-expression.h"
#include "runtime/yaml-reader.h"
#include "tools/json-schema.h"

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>
#include <set>

namespace chorus::runtime {

std::string SourcePos::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace {

std::string join_lines(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out.push_back('\n');
    out.append(p);
  }
  return out;
}

}  // namespace

WorkflowError::WorkflowError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

nlohmann::json AgentSpec::to_json() const {
  return {{"name", name},   {"kind", kind},         {"role", role},   {"goal", goal},
          {"instructions", instructions}, {"llm", llm}, {"tools", tools}, {"max_iter", max_iter},
          {"options", options}};
}

namespace {

using Json = nlohmann::json;

const std::vector<std::string> kTopKeys = {"name", "description", "inputs", "budgets", "agents", "tasks", "flow"};
const std::vector<std::string> kInputKeys = {"description", "default"};
const std::vector<std::string> kBudgetKeys = {"max_tokens", "timeout_s", "step_timeout_s", "retries", "backoff_s"};
const std::vector<std::string> kAgentKeys = {"kind", "role", "goal", "instructions", "llm", "tools", "max_iter"};
const std::vector<std::string> kTaskKeys = {"description", "expected_output", "agent", "context", "output_schema"};
const std::vector<std::string> kFlowKeys = {"start", "steps"};
const std::vector<std::string> kStepKeys = {"task",    "next",      "max_iterations", "retries",
                                            "timeout_s", "parallel", "human_input"};
const std::vector<std::string> kEdgeKeys = {"when", "goto"};
const std::vector<std::string> kHumanKeys = {"prompt", "key"};
const std::set<std::string> kReservedNames = {"end", "inputs", "outputs", "iterations", "true",
                                              "false", "null", "and", "or", "not"};

bool is_identifier(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

template <typename Map>
std::vector<std::string> keys_of(const Map& map) {
  std::vector<std::string> out;
  for (const auto& [key, value] : map) out.push_back(key);
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string match = closest_match(word, candidates);
  return match.empty() ? "" : "did you mean '" + match + "'? ";
}

// Where a template or condition was written, to check its references once every name is known.
struct TextSite {
  std::string what;  // e.g. "task 'draft' description"
  YAML::Node node;
  bool is_condition = false;
};

class SpecParser {
 public:
  SpecParser(const std::string& text, const std::string& file, const AgentKindRegistry* kinds)
      : text_(text), reader_(file, text), kinds_(kinds) {
    spec_.file = file;
  }

  WorkflowSpec parse() {
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::ParserException& e) {
      reader_.error(reader_.pos(e.mark), "YAML syntax error: " + e.msg + "; check the indentation and quoting "
                                         "near this place");
      throw WorkflowError(reader_.errors());
    }
    if (!root.IsDefined() || root.IsNull()) {
      reader_.error(reader_.pos(YAML::Mark::null_mark()), "the file is empty; a workflow needs at least `name:`, "
                                                          "`agents:` and `tasks:` (see docs/workflow-yaml.md)");
      throw WorkflowError(reader_.errors());
    }
    read_top(root);
    if (reader_.has_errors()) throw WorkflowError(reader_.errors());
    spec_.warnings = reader_.warnings();
    return std::move(spec_);
  }

 private:
  void read_top(const YAML::Node& root) {
    auto entries = reader_.entries(root, "the workflow", kTopKeys);
    if (!root.IsMap()) return;
    std::map<std::string, const YamlEntry*> sections;
    for (const auto& e : entries) sections[e.key] = &e;
    if (auto it = sections.find("name"); it != sections.end()) {
      const YamlEntry& e = *it->second;
      if (auto v = reader_.string(e.value, "name")) {
        spec_.name = *v;
        if (v->empty()) reader_.error(reader_.pos(e.key_node), "name is empty; write e.g. `name: research`");
      }
    } else {
      reader_.error(reader_.pos(root), "missing `name:`; add e.g. `name: research` at the top");
    }
    if (auto it = sections.find("description"); it != sections.end())
      if (auto v = reader_.string(it->second->value, "description")) spec_.description = *v;
    if (sections.count("inputs")) read_inputs(sections["inputs"]->value);
    if (sections.count("budgets")) read_budgets(sections["budgets"]->value);
    auto is_empty = [](const YAML::Node& n) { return n.IsNull() || (n.IsMap() && n.size() == 0); };
    if (!sections.count("agents") || is_empty(sections["agents"]->value))
      reader_.error(sections.count("agents") ? reader_.pos(sections["agents"]->key_node) : reader_.pos(root),
                    "missing `agents:`; define at least one agent, e.g. `agents: {writer: {kind: echo}}`");
    else
      read_agents(sections["agents"]->value);
    if (!sections.count("tasks") || is_empty(sections["tasks"]->value))
      reader_.error(sections.count("tasks") ? reader_.pos(sections["tasks"]->key_node) : reader_.pos(root),
                    "missing `tasks:`; define at least one task, e.g. `tasks: {draft: {description: ..., agent: "
                    "writer}}`");
    else
      read_tasks(sections["tasks"]->value);
    if (sections.count("flow")) {
      flow_pos_ = reader_.pos(sections["flow"]->key_node);
      read_flow(sections["flow"]->value);
    } else {
      default_flow();
    }
    check_tasks();
    check_flow();
    check_texts();
  }

  // ---- inputs ---------------------------------------------------------------------------------------------

  void add_input(const std::string& name, const YAML::Node& key_node, InputSpec input) {
    input.name = name;
    input.pos = reader_.pos(key_node);
    check_name(name, "input", key_node);
    spec_.inputs[name] = std::move(input);
  }

  void read_inputs(const YAML::Node& node) {
    if (node.IsSequence()) {
      std::set<std::string> seen;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          reader_.error(reader_.pos(item), "inputs list items must be names; write e.g. `inputs: [topic, depth]`");
          continue;
        }
        if (!seen.insert(item.Scalar()).second) {
          reader_.error(reader_.pos(item), "input '" + item.Scalar() + "' is listed twice; remove one");
          continue;
        }
        add_input(item.Scalar(), item, InputSpec{});
      }
      return;
    }
    for (const auto& e : reader_.entries(node, "inputs", {})) {
      InputSpec input;
      if (e.value.IsMap()) {
        for (const auto& f : reader_.entries(e.value, "input '" + e.key + "'", kInputKeys)) {
          if (f.key == "description") {
            if (auto v = reader_.string(f.value, "inputs." + e.key + ".description")) input.description = *v;
          } else {
            input.default_value = yaml_to_json(f.value);
          }
        }
      } else if (!e.value.IsNull()) {
        reader_.error(reader_.pos(e.value), "input '" + e.key + "' must be a mapping; write `" + e.key +
                                                ": {description: \"...\", default: ...}` (no default: required)");
      }
      add_input(e.key, e.key_node, std::move(input));
    }
  }

  // ---- budgets --------------------------------------------------------------------------------------------

  void read_budgets(const YAML::Node& node) {
    BudgetSpec& b = spec_.budgets;
    for (const auto& e : reader_.entries(node, "budgets", kBudgetKeys)) {
      std::string field = "budgets." + e.key;
      if (e.key == "max_tokens") {
        if (auto v = reader_.integer(e.value, field, 0, 1'000'000'000'000LL)) b.max_tokens = *v;
      } else if (e.key == "timeout_s") {
        if (auto v = reader_.number(e.value, field, 0)) b.timeout_s = *v;
      } else if (e.key == "step_timeout_s") {
        if (auto v = reader_.number(e.value, field, 0)) {
          if (*v == 0)
            reader_.error(reader_.pos(e.value), field + " must be > 0; write e.g. `step_timeout_s: 120`");
          else
            b.step_timeout_s = *v;
        }
      } else if (e.key == "retries") {
        if (auto v = reader_.integer(e.value, field, 0)) b.retries = static_cast<int>(*v);
      } else if (e.key == "backoff_s") {
        if (auto v = reader_.number(e.value, field, 0)) b.backoff_s = *v;
      }
    }
  }

  // ---- agents ---------------------------------------------------------------------------------------------

  void read_agents(const YAML::Node& node) {
    for (const auto& e : reader_.entries(node, "agents", {})) {
      AgentSpec agent;
      agent.name = e.key;
      agent.pos = reader_.pos(e.key_node);
      if (!is_valid_agent_type(e.key))
        reader_.error(agent.pos, "agent name '" + e.key + "' is not valid; use letters, digits, '_', '.' and '-', "
                                 "starting with a letter");
      read_agent(e, agent);
      spec_.agent_order.push_back(e.key);
      spec_.agents[e.key] = std::move(agent);
    }
  }

  void read_agent(const YamlEntry& entry, AgentSpec& agent) {
    const std::string what = "agent '" + agent.name + "'";
    const std::string prefix = "agents." + agent.name + ".";
    auto entries = reader_.entries(entry.value, what, {}, agent.pos);
    // The kind decides which extra keys are allowed, so read it first.
    const AgentKind* kind = nullptr;
    bool kind_known = kinds_ == nullptr;
    SourcePos kind_pos = agent.pos;
    for (const auto& e : entries) {
      if (e.key != "kind") continue;
      kind_pos = reader_.pos(e.value);
      if (auto v = reader_.string(e.value, prefix + "kind")) agent.kind = *v;
    }
    if (kinds_) {
      kind = kinds_->find(agent.kind);
      kind_known = kind != nullptr;
      if (!kind) {
        std::vector<std::string> names;
        for (const auto* k : kinds_->list()) names.push_back(k->name);
        reader_.error(kind_pos, "unknown agent kind '" + agent.kind + "' for " + what + "; " +
                                    did_you_mean(agent.kind, names) + "the kinds are: " + join_names(names));
      }
    }
    std::vector<std::string> allowed = kAgentKeys;
    if (kind) allowed.insert(allowed.end(), kind->option_keys.begin(), kind->option_keys.end());
    bool has_llm = false;
    for (const auto& e : entries) {
      const std::string field = prefix + e.key;
      if (e.key == "kind") {
        continue;
      } else if (e.key == "role" || e.key == "goal" || e.key == "instructions") {
        if (auto v = reader_.string(e.value, field))
          (e.key == "role" ? agent.role : e.key == "goal" ? agent.goal : agent.instructions) = *v;
      } else if (e.key == "llm") {
        has_llm = !e.value.IsNull();
        read_llm(e.value, field, agent);
      } else if (e.key == "tools") {
        if (auto v = reader_.string_list(e.value, field)) agent.tools = *v;
      } else if (e.key == "max_iter") {
        if (auto v = reader_.integer(e.value, field, 1)) agent.max_iter = static_cast<int>(*v);
      } else if (kind || kinds_ != nullptr) {
        if (kind && std::find(allowed.begin(), allowed.end(), e.key) != allowed.end())
          agent.options[e.key] = yaml_to_json(e.value);
        else if (kind_known)
          reader_.unknown_key(e, what + " (kind " + agent.kind + ")", allowed);
      } else {
        agent.options[e.key] = yaml_to_json(e.value);  // no registry: the kind checks its own options
      }
    }
    if (kind && kind->needs_llm && !has_llm)
      reader_.error(agent.pos, what + " (kind " + agent.kind + ") needs an `llm:` section; add e.g. `llm: "
                                      "{provider: openai, model: gpt-4o-mini}`");
    else if (kind && kind->check) {
      for (const auto& problem : kind->check(agent.to_json())) reader_.error(agent.pos, what + ": " + problem);
    }
  }

  void read_llm(const YAML::Node& node, const std::string& field, AgentSpec& agent) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      reader_.error(reader_.pos(node), field + " must be a mapping with a `provider:`; write e.g. `llm: {provider: "
                                               "openai, model: gpt-4o-mini}`");
      return;
    }
    auto entries = reader_.entries(node, field, {});
    bool has_provider = false;
    for (const auto& e : entries) {
      if (e.key != "provider") continue;
      has_provider = true;
      if (!e.value.IsScalar() || e.value.Scalar().empty())
        reader_.error(reader_.pos(e.value), field + ".provider must be a name such as openai, local or scripted");
    }
    if (!has_provider)
      reader_.error(reader_.pos(node), field + " has no `provider:`; add e.g. `provider: openai` (or local, "
                                               "scripted)");
    agent.llm = yaml_to_json(node);
  }

  // ---- tasks ----------------------------------------------------------------------------------------------

  void read_tasks(const YAML::Node& node) {
    for (const auto& e : reader_.entries(node, "tasks", {})) {
      TaskSpec task;
      task.name = e.key;
      task.pos = reader_.pos(e.key_node);
      check_name(e.key, "task", e.key_node);
      const std::string what = "task '" + e.key + "'";
      const std::string prefix = "tasks." + e.key + ".";
      bool has_description = false, has_agent = false;
      for (const auto& f : reader_.entries(e.value, what, kTaskKeys, task.pos)) {
        if (f.key == "description" || f.key == "expected_output") {
          if (f.key == "description") has_description = true;
          auto v = reader_.string(f.value, prefix + f.key);
          if (!v) continue;
          (f.key == "description" ? task.description : task.expected_output) = *v;
          texts_.push_back(TextSite{what + " " + f.key, f.value, false});
        } else if (f.key == "agent") {
          has_agent = true;
          if (auto v = reader_.string(f.value, prefix + "agent")) task.agent = *v;
          agent_refs_[e.key] = reader_.pos(f.value);
        } else if (f.key == "context") {
          if (auto v = reader_.string_list(f.value, prefix + "context")) {
            task.context = *v;
            std::vector<SourcePos> positions;
            if (f.value.IsSequence())
              for (const auto& item : f.value) positions.push_back(reader_.pos(item));
            else
              positions.push_back(reader_.pos(f.value));
            context_pos_[e.key] = positions;
          }
        } else if (f.key == "output_schema") {
          read_output_schema(f.value, prefix + "output_schema", task);
        }
      }
      if (e.value.IsMap() && !has_description)
        reader_.error(task.pos, what + " has no `description:`; add what the agent should do, e.g. `description: "
                                       "\"Write about {topic}\"`");
      if (!has_agent && e.value.IsMap()) {
        if (spec_.agent_order.size() == 1) {
          task.agent = spec_.agent_order.front();  // one agent: it does every task
        } else {
          reader_.error(task.pos, what + " has no `agent:`; add `agent: NAME` (the agents are: " +
                                      join_names(spec_.agent_order) + ")");
        }
      }
      spec_.task_order.push_back(e.key);
      spec_.tasks[e.key] = std::move(task);
    }
  }

  void read_output_schema(const YAML::Node& node, const std::string& field, TaskSpec& task) {
    if (!node.IsMap()) {
      reader_.error(reader_.pos(node), field + " must be a JSON Schema mapping; write e.g. `output_schema: {type: "
                                               "object, required: [verdict]}`");
      return;
    }
    Json schema = yaml_to_json(node);
    try {
      tools::JsonSchema compiled(schema);
      task.output_schema = schema;
    } catch (const std::exception& e) {
      reader_.error(reader_.pos(node), field + " is not a valid JSON Schema: " + e.what() +
                                           "; see https://json-schema.org/understanding-json-schema");
    }
  }

  // ---- flow -----------------------------------------------------------------------------------------------

  void default_flow() {
    for (size_t i = 0; i < spec_.task_order.size(); ++i) {
      StepSpec step;
      step.name = step.task = spec_.task_order[i];
      step.pos = spec_.tasks[step.name].pos;
      step.retries = spec_.budgets.retries;
      if (i + 1 < spec_.task_order.size()) {
        EdgeSpec edge;
        edge.target = spec_.task_order[i + 1];
        edge.pos = step.pos;
        step.next.push_back(edge);
      }
      spec_.flow.order.push_back(step.name);
      spec_.flow.steps[step.name] = std::move(step);
    }
    if (!spec_.flow.order.empty()) spec_.flow.start = spec_.flow.order.front();
  }

  void read_flow(const YAML::Node& node) {
    const YamlEntry* steps = nullptr;
    const YamlEntry* start = nullptr;
    auto flow_entries = reader_.entries(node, "flow", kFlowKeys, flow_pos_);
    for (const auto& e : flow_entries) {
      if (e.key == "steps") steps = &e;
      if (e.key == "start") start = &e;
    }
    if (!node.IsMap()) return;
    if (!steps || steps->value.IsNull() || (steps->value.IsMap() && steps->value.size() == 0)) {
      reader_.error(steps ? reader_.pos(steps->key_node) : flow_pos_,
                    "flow has no `steps:`; add them, or remove `flow:` to run the tasks in written order");
      return;
    }
    for (const auto& e : reader_.entries(steps->value, "flow.steps", {})) {
      StepSpec step;
      step.name = e.key;
      step.pos = reader_.pos(e.key_node);
      step.retries = spec_.budgets.retries;
      check_name(e.key, "step", e.key_node);
      read_step(e, step);
      spec_.flow.order.push_back(e.key);
      spec_.flow.steps[e.key] = std::move(step);
    }
    if (start) {
      start_pos_ = reader_.pos(start->value);
      if (auto v = reader_.string(start->value, "flow.start")) spec_.flow.start = *v;
    } else if (!spec_.flow.order.empty()) {
      spec_.flow.start = spec_.flow.order.front();
    }
  }

  void read_step(const YamlEntry& entry, StepSpec& step) {
    const std::string what = "step '" + step.name + "'";
    const std::string prefix = "flow.steps." + step.name + ".";
    bool has_task = false, has_parallel = false, has_human = false;
    for (const auto& e : reader_.entries(entry.value, what, kStepKeys, step.pos)) {
      const std::string field = prefix + e.key;
      if (e.key == "task") {
        has_task = true;
        if (auto v = reader_.string(e.value, field)) step.task = *v;
        step_task_pos_[step.name] = reader_.pos(e.value);
      } else if (e.key == "next") {
        read_next(e.value, field, step);
      } else if (e.key == "max_iterations") {
        if (auto v = reader_.integer(e.value, field, 1)) step.max_iterations = static_cast<int>(*v);
      } else if (e.key == "retries") {
        if (auto v = reader_.integer(e.value, field, 0)) step.retries = static_cast<int>(*v);
      } else if (e.key == "timeout_s") {
        if (auto v = reader_.number(e.value, field, 0)) step.timeout_s = *v;
      } else if (e.key == "parallel") {
        has_parallel = true;
        step.kind = StepSpec::Kind::parallel;
        if (auto v = reader_.string_list(e.value, field)) {
          step.branches = *v;
          std::vector<SourcePos> positions;
          if (e.value.IsSequence())
            for (const auto& item : e.value) positions.push_back(reader_.pos(item));
          else
            positions.push_back(reader_.pos(e.value));
          branch_pos_[step.name] = positions;
          if (v->empty())
            reader_.error(reader_.pos(e.value), field + " is empty; list the steps to run at once, e.g. "
                                                        "`parallel: [search_a, search_b]`");
        }
      } else if (e.key == "human_input") {
        has_human = true;
        step.kind = StepSpec::Kind::human_input;
        read_human_input(e.value, field, step);
      }
    }
    int kinds = int(has_task) + int(has_parallel) + int(has_human);
    if (kinds > 1) {
      reader_.error(step.pos, what + " mixes " + std::string(has_task ? "task, " : "") +
                                  (has_parallel ? "parallel, " : "") + (has_human ? "human_input" : "") +
                                  "; a step does one thing: split it into several steps");
      step.kind = has_parallel ? StepSpec::Kind::parallel
                               : (has_human ? StepSpec::Kind::human_input : StepSpec::Kind::task);
    }
    if (kinds == 0) step.task = step.name;  // the task defaults to the step's name
    if (step.kind != StepSpec::Kind::task) step.task.clear();
  }

  void read_human_input(const YAML::Node& node, const std::string& field, StepSpec& step) {
    if (!node.IsMap()) {
      reader_.error(reader_.pos(node), field + " must be a mapping; write e.g. `human_input: {prompt: \"Approve?\", "
                                               "key: approval}`");
      return;
    }
    bool has_prompt = false;
    step.input_key = step.name;
    for (const auto& e : reader_.entries(node, field, kHumanKeys)) {
      if (e.key == "prompt") {
        if (auto v = reader_.string(e.value, field + ".prompt")) {
          has_prompt = true;
          step.prompt = *v;
          texts_.push_back(TextSite{"step '" + step.name + "' prompt", e.value, false});
        }
      } else if (auto v = reader_.string(e.value, field + ".key")) {
        step.input_key = *v;
        bool bad = v->empty() || std::any_of(v->begin(), v->end(), [](char c) {
                     return c == '=' || std::isspace(static_cast<unsigned char>(c));
                   });
        if (bad)
          reader_.error(reader_.pos(e.value), field + ".key '" + *v + "' must be a non-empty name without '=' or "
                                                                         "spaces (it is given as --input KEY=VALUE)");
      }
    }
    if (!has_prompt)
      reader_.error(reader_.pos(node), field + " has no `prompt:`; add the question to ask, e.g. `prompt: "
                                               "\"Approve the draft?\"`");
  }

  void read_next(const YAML::Node& node, const std::string& field, StepSpec& step) {
    if (node.IsNull()) return;
    if (node.IsScalar()) {
      step.next.push_back(EdgeSpec{"", node.Scalar(), reader_.pos(node)});
      return;
    }
    if (node.IsMap()) {
      read_edge(node, field, step);
      return;
    }
    for (const auto& item : node) {
      if (item.IsScalar())
        step.next.push_back(EdgeSpec{"", item.Scalar(), reader_.pos(item)});
      else if (item.IsMap())
        read_edge(item, field, step);
      else
        reader_.error(reader_.pos(item), field + " items must be `{when: CONDITION, goto: STEP}` or a step name");
    }
  }

  void read_edge(const YAML::Node& node, const std::string& field, StepSpec& step) {
    EdgeSpec edge;
    edge.pos = reader_.pos(node);
    bool has_goto = false;
    for (const auto& e : reader_.entries(node, field + " edge", kEdgeKeys)) {
      if (e.key == "goto") {
        if (auto v = reader_.string(e.value, field + ".goto")) {
          has_goto = true;
          edge.target = *v;
          edge.pos = reader_.pos(e.value);
        }
      } else if (auto v = reader_.string(e.value, field + ".when")) {
        edge.when = *v;
        texts_.push_back(TextSite{"step '" + step.name + "' condition", e.value, true});
      }
    }
    if (!has_goto) {
      reader_.error(reader_.pos(node), field + " edge has no `goto:`; add the step to go to (or `goto: end`)");
      return;
    }
    step.next.push_back(edge);
  }

  // ---- cross-checks ---------------------------------------------------------------------------------------

  void check_name(const std::string& name, const std::string& what, const YAML::Node& key_node) {
    if (!is_identifier(name))
      reader_.error(reader_.pos(key_node), what + " name '" + name + "' is not valid; use letters, digits and '_', "
                                                  "starting with a letter (it is used in {references})");
    else if (kReservedNames.count(name))
      reader_.error(reader_.pos(key_node), what + " name '" + name + "' is reserved; choose another name");
  }

  void check_tasks() {
    auto agents = spec_.agent_order;
    auto tasks = spec_.task_order;
    for (const auto& name : spec_.task_order) {
      const TaskSpec& task = spec_.tasks[name];
      if (!task.agent.empty() && !spec_.agents.count(task.agent)) {
        SourcePos p = agent_refs_.count(name) ? agent_refs_[name] : task.pos;
        reader_.error(p, "task '" + name + "' names unknown agent '" + task.agent + "'; " +
                             did_you_mean(task.agent, agents) + "the agents are: " + join_names(agents));
      }
      std::set<std::string> seen;
      for (size_t i = 0; i < task.context.size(); ++i) {
        const std::string& c = task.context[i];
        SourcePos p = i < context_pos_[name].size() ? context_pos_[name][i] : task.pos;
        if (c == name)
          reader_.error(p, "task '" + name + "' lists itself in context; remove it");
        else if (!spec_.tasks.count(c))
          reader_.error(p, "task '" + name + "' has unknown context task '" + c + "'; " + did_you_mean(c, tasks) +
                               "the tasks are: " + join_names(tasks));
        else if (!seen.insert(c).second)
          reader_.error(p, "task '" + name + "' lists context '" + c + "' twice; remove one");
      }
    }
  }

  std::vector<std::string> successors(const StepSpec& step) const {
    std::vector<std::string> out;
    auto add = [&](const std::string& s) {
      if (spec_.flow.steps.count(s)) out.push_back(s);
    };
    if (step.kind == StepSpec::Kind::parallel)
      for (const auto& b : step.branches) add(b);
    for (const auto& e : step.next) {
      add(e.target);
      if (e.when.empty() && e.target == "end") break;  // later edges are never taken
    }
    // A branch continues with its parallel step's next (the join).
    auto parents = branch_parents_.find(step.name);
    if (parents != branch_parents_.end())
      for (const auto& parent : parents->second)
        for (const auto& e : spec_.flow.steps.at(parent).next) add(e.target);
    return out;
  }

  std::set<std::string> reachable_from(const std::string& start) const {
    std::set<std::string> seen;
    std::deque<std::string> queue;
    if (spec_.flow.steps.count(start)) {
      seen.insert(start);
      queue.push_back(start);
    }
    while (!queue.empty()) {
      std::string s = queue.front();
      queue.pop_front();
      for (const auto& next : successors(spec_.flow.steps.at(s)))
        if (seen.insert(next).second) queue.push_back(next);
    }
    return seen;
  }

  void check_flow() {
    auto& steps = spec_.flow.steps;
    std::vector<std::string> step_names = spec_.flow.order;
    std::vector<std::string> targets = step_names;
    targets.push_back("end");
    if (steps.empty()) return;
    if (!steps.count(spec_.flow.start))
      reader_.error(start_pos_.line ? start_pos_ : flow_pos_,
                    "flow.start names unknown step '" + spec_.flow.start + "'; " +
                        did_you_mean(spec_.flow.start, step_names) + "the steps are: " + join_names(step_names));
    std::set<std::string> used_tasks;
    for (const auto& name : spec_.flow.order) {
      StepSpec& step = steps[name];
      if (step.kind == StepSpec::Kind::task) {
        used_tasks.insert(step.task);
        if (!spec_.tasks.count(step.task)) {
          bool explicit_task = step_task_pos_.count(name) > 0;
          SourcePos p = explicit_task ? step_task_pos_[name] : step.pos;
          reader_.error(p, "step '" + name + "' runs unknown task '" + step.task + "'; " +
                               did_you_mean(step.task, spec_.task_order) +
                               (explicit_task ? "" : "a step runs the task of its own name unless it has `task:`; ") +
                               "the tasks are: " + join_names(spec_.task_order));
        }
      }
      for (const auto& edge : step.next)
        if (!steps.count(edge.target) && edge.target != "end")
          reader_.error(edge.pos, "step '" + name + "' goes to unknown step '" + edge.target + "'; " +
                                      did_you_mean(edge.target, targets) + "the steps are: " +
                                      join_names(step_names) + " (or end)");
      for (size_t i = 0; i + 1 < step.next.size(); ++i)
        if (step.next[i].when.empty() && step.next[i].target == "end")
          reader_.warning(step.next[i + 1].pos, "step '" + name + "': this edge is never taken, the one before it "
                                                "always ends the run; remove it or give the earlier one a `when:`");
      if (step.kind == StepSpec::Kind::parallel) {
        std::set<std::string> seen;
        for (size_t i = 0; i < step.branches.size(); ++i) {
          const std::string& b = step.branches[i];
          SourcePos p = i < branch_pos_[name].size() ? branch_pos_[name][i] : step.pos;
          if (b == name) {
            reader_.error(p, "parallel step '" + name + "' lists itself as a branch; remove it");
          } else if (!steps.count(b)) {
            reader_.error(p, "parallel step '" + name + "' has unknown branch '" + b + "'; " +
                                 did_you_mean(b, step_names) + "branches are steps: define `" + b +
                                 ":` under flow.steps (the steps are: " + join_names(step_names) + ")");
          } else if (!seen.insert(b).second) {
            reader_.error(p, "parallel step '" + name + "' lists branch '" + b + "' twice; remove one");
          } else {
            branch_parents_[b].push_back(name);
            if (!steps[b].next.empty())
              reader_.error(steps[b].next.front().pos,
                            "step '" + b + "' is a branch of parallel step '" + name + "' and has its own `next:`; "
                            "branches are joined and continue with " + name + "'s next: remove this one");
          }
        }
      }
    }
    for (const auto& task : spec_.task_order)
      if (!used_tasks.count(task))
        reader_.warning(spec_.tasks[task].pos, "task '" + task + "' is run by no step; add a step for it or "
                                                                 "remove it");
    if (!steps.count(spec_.flow.start)) return;
    std::set<std::string> reachable = reachable_from(spec_.flow.start);
    for (const auto& name : spec_.flow.order)
      if (!reachable.count(name))
        reader_.warning(steps[name].pos, "step '" + name + "' can never run: no path leads to it from the start "
                                         "step '" + spec_.flow.start + "'; add an edge to it or remove it");
    for (const auto& name : spec_.flow.order) {
      const StepSpec& step = steps[name];
      if (!reachable.count(name) || step.max_iterations != 1) continue;
      bool on_loop = false;
      for (const auto& next : successors(step)) on_loop = on_loop || reachable_from(next).count(name) > 0;
      if (on_loop)
        reader_.warning(step.pos, "step '" + name + "' is on a loop but may run only once (max_iterations 1), so "
                                  "the loop stops when it comes round again; set `max_iterations:` as on the "
                                  "loop's other steps");
    }
    check_context_order(reachable);
  }

  // Every context task must be run by a step that can come before the step that needs it.
  void check_context_order(const std::set<std::string>& reachable) {
    std::map<std::string, std::set<std::string>> predecessors;
    for (const auto& name : reachable)
      for (const auto& next : successors(spec_.flow.steps.at(name))) predecessors[next].insert(name);
    for (const auto& name : spec_.flow.order) {
      const StepSpec& step = spec_.flow.steps.at(name);
      if (step.kind != StepSpec::Kind::task || !reachable.count(name) || !spec_.tasks.count(step.task)) continue;
      const TaskSpec& task = spec_.tasks.at(step.task);
      if (task.context.empty()) continue;
      std::set<std::string> before;
      std::deque<std::string> queue(predecessors[name].begin(), predecessors[name].end());
      before.insert(queue.begin(), queue.end());
      while (!queue.empty()) {
        std::string s = queue.front();
        queue.pop_front();
        for (const auto& p : predecessors[s])
          if (before.insert(p).second) queue.push_back(p);
      }
      for (size_t i = 0; i < task.context.size(); ++i) {
        const std::string& c = task.context[i];
        if (c == task.name || !spec_.tasks.count(c)) continue;  // reported by check_tasks
        bool runs_before = std::any_of(before.begin(), before.end(), [&](const std::string& s) {
          const StepSpec& other = spec_.flow.steps.at(s);
          return other.kind == StepSpec::Kind::task && other.task == c;
        });
        if (!runs_before) {
          SourcePos p = i < context_pos_[task.name].size() ? context_pos_[task.name][i] : task.pos;
          reader_.error(p, "task '" + task.name + "' (step '" + name + "') uses context '" + c +
                               "', but no step running '" + c + "' can run before step '" + name +
                               "'; run '" + c + "' earlier or remove it from context");
        }
      }
    }
  }

  // {references} in task texts and prompts, and paths in `when:` conditions, must name inputs or steps.
  void check_texts() {
    for (const auto& site : texts_) {
      const std::string text = site.node.Scalar();
      std::vector<ExpressionReference> refs;
      try {
        if (site.is_condition) {
          if (text.find_first_not_of(" \t") == std::string::npos) continue;
          refs = Expression::parse(text).references();
        } else {
          refs = template_references(text);
        }
      } catch (const ExpressionSyntaxError& e) {
        reader_.error(reader_.pos_in_scalar(site.node, static_cast<size_t>(e.column() - 1)),
                      site.what + (site.is_condition ? " does not parse: " : ": ") + e.problem() +
                          (site.is_condition ? "; see Conditions in docs/workflow-yaml.md" : ""));
        continue;
      }
      for (const auto& ref : refs) check_reference(site, ref);
    }
  }

  void check_reference(const TextSite& site, const ExpressionReference& ref) {
    SourcePos p = reader_.pos_in_scalar(site.node, static_cast<size_t>(ref.column - 1));
    const std::string& root = ref.names.front();
    std::vector<std::string> inputs = keys_of(spec_.inputs);
    const std::vector<std::string>& steps = spec_.flow.order;
    auto shown = site.is_condition ? "'" + ref.text + "'" : "{" + ref.text + "}";
    auto check_member = [&](const std::vector<std::string>& names, const std::string& kind) {
      if (ref.names.size() < 2) return;
      const std::string& member = ref.names[1];
      if (std::find(names.begin(), names.end(), member) != names.end()) return;
      std::string hint;
      if (kind == "step" && spec_.tasks.count(member)) hint = "'" + member + "' is a task; outputs are named by step. ";
      reader_.error(p, site.what + " reads " + shown + ", but there is no " + kind + " '" + member + "'; " + hint +
                           did_you_mean(member, names) + "the " + kind + "s are: " + join_names(names));
    };
    if (root == "inputs") {
      check_member(inputs, "input");
    } else if (root == "outputs" || root == "iterations") {
      check_member(steps, "step");
    } else if (!spec_.inputs.count(root) && !spec_.flow.steps.count(root)) {
      std::vector<std::string> names = inputs;
      names.insert(names.end(), steps.begin(), steps.end());
      reader_.error(p, site.what + " reads " + shown + ", but '" + root + "' is neither an input nor a step; " +
                           did_you_mean(root, names) + "declare it under `inputs:` (the inputs are: " +
                           join_names(inputs) + "; the steps are: " + join_names(steps) + ")" +
                           (site.is_condition ? "" : "; write {{ for a literal brace"));
    }
  }

  std::string text_;
  YamlReader reader_;
  const AgentKindRegistry* kinds_;
  WorkflowSpec spec_;
  SourcePos flow_pos_, start_pos_;
  std::vector<TextSite> texts_;
  std::map<std::string, SourcePos> agent_refs_, step_task_pos_;
  std::map<std::string, std::vector<SourcePos>> context_pos_, branch_pos_;
  std::map<std::string, std::vector<std::string>> branch_parents_;
};

}  // namespace

WorkflowSpec WorkflowSpec::parse(const std::string& yaml_text, const std::string& file_name,
                                 const AgentKindRegistry* kinds) {
  return SpecParser(yaml_text, file_name, kinds).parse();
}

WorkflowSpec WorkflowSpec::load(const std::string& path, const AgentKindRegistry* kinds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw WorkflowError({path + ": cannot read the workflow file; check the path and its permissions"});
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse(text, path, kinds);
}

Json WorkflowSpec::resolve_inputs(const std::map<std::string, std::string>& given) const {
  std::vector<std::string> problems;
  std::vector<std::string> names = keys_of(inputs);
  Json out = Json::object();
  for (const auto& [name, text] : given) {
    auto it = inputs.find(name);
    if (it == inputs.end()) {
      problems.push_back(file + ": unknown input '" + name + "'; " + did_you_mean(name, names) +
                         "the inputs are: " + join_names(names));
      continue;
    }
    const auto& def = it->second.default_value;
    if (def && !def->is_null() && !def->is_string()) {
      // The default's type says how to read the text (numbers, booleans, lists, objects as JSON).
      Json parsed = Json::parse(text, nullptr, false);
      bool same_kind = !parsed.is_discarded() && (parsed.type() == def->type() ||
                                                  (parsed.is_number() && def->is_number()));
      if (!same_kind) {
        problems.push_back(file + ": input '" + name + "' must be " + std::string(def->type_name()) +
                           " like its default " + def->dump() + ", got '" + text + "'");
        continue;
      }
      out[name] = parsed;
    } else {
      out[name] = text;
    }
  }
  for (const auto& [name, input] : inputs) {
    if (out.contains(name) || given.count(name)) continue;
    if (input.default_value) {
      out[name] = *input.default_value;
    } else {
      problems.push_back(file + ": missing input '" + name + "'" +
                         (input.description.empty() ? "" : " (" + input.description + ")") + "; pass --input " +
                         name + "=VALUE (the inputs are: " + join_names(names) + ")");
    }
  }
  if (!problems.empty()) throw WorkflowError(problems);
  return out;
}

}  // namespace chorus::runtime
