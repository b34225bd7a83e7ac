#include "agents/agent-kinds.h"

#include "agents/assistant-agent.h"
#include "agents/formalizer-agent.h"
#include "agents/reasoning-agents.h"
#include "agents/llm.h"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {
namespace {

// The provider for an LLM kind's agent, from its `llm:` section.
std::shared_ptr<LlmProvider> provider_for(const nlohmann::json& spec, const runtime::AgentId& id,
                                          const std::string& kind, const std::string& base_dir) {
  if (!spec.is_object() || !spec.contains("llm") || spec["llm"].is_null())
    throw std::invalid_argument("agent '" + id.type + "' (kind " + kind +
                                ") needs an `llm:` section, e.g. {provider: openai, model: gpt-4o-mini}");
  return make_llm_provider(spec["llm"], base_dir);
}

// Problems in an LLM kind's `llm:` settings and tool names, found before the first step runs.
std::vector<std::string> check_llm_settings(const nlohmann::json& spec,
                                            const std::shared_ptr<const tools::ToolRegistry>& tools,
                                            const std::string& base_dir) {
  std::vector<std::string> problems;
  if (spec.contains("llm") && !spec["llm"].is_null()) try {
      make_llm_provider(spec["llm"], base_dir);  // reads and checks the settings; loads nothing
    } catch (const std::exception& e) {
      problems.push_back(e.what());
    }
  for (const auto& name : spec.value("tools", nlohmann::json::array())) {
    if (!name.is_string() || (tools && tools->find(name.get<std::string>()))) continue;
    std::string known;
    if (tools)
      for (const auto* tool : tools->list()) known.append(known.empty() ? "" : ", ").append(tool->spec.name);
    problems.push_back("tool '" + name.get<std::string>() + "' is not a registered tool (registered: " + known +
                       "); `chorus tools list` shows them");
  }
  return problems;
}

void add_tool_loop_kind(runtime::AgentKindRegistry& registry, const std::shared_ptr<const tools::ToolRegistry>& tools,
                        const std::string& base_dir, const std::string& name, const std::string& description,
                        ToolLoopStyle style) {
  runtime::AgentKind kind;
  kind.name = name;
  kind.description = description;
  kind.needs_llm = true;
  kind.factory = [tools, base_dir, name, style](const nlohmann::json& spec, const runtime::AgentId& id) {
    return make_assistant_agent(spec, provider_for(spec, id, name, base_dir), tools, style);
  };
  kind.check = [tools, base_dir, style](const nlohmann::json& spec) {
    auto problems = check_llm_settings(spec, tools, base_dir);
    if (style == ToolLoopStyle::tool_user && (!spec.contains("tools") || !spec["tools"].is_array() || spec["tools"].empty()))
      problems.push_back("kind tool_user needs `tools:` (a list of tool names, e.g. [calculator, calendar])");
    return problems;
  };
  registry.add(std::move(kind));
}

using ToolsPtr = std::shared_ptr<const tools::ToolRegistry>;
using LlmAgentMaker =
    std::function<std::unique_ptr<runtime::Agent>(const nlohmann::json&, std::shared_ptr<LlmProvider>, const ToolsPtr&)>;
using OptionProblems = std::function<std::vector<std::string>(const nlohmann::json&, const ToolsPtr&)>;

// A kind that needs `llm:`: its factory builds the provider, its check reports `llm:`/tool problems plus its own
// option problems.
void add_llm_kind(runtime::AgentKindRegistry& registry, const ToolsPtr& tools, const std::string& base_dir,
                  const std::string& name, const std::string& description, std::vector<std::string> option_keys,
                  LlmAgentMaker make, OptionProblems option_problems) {
  runtime::AgentKind kind;
  kind.name = name;
  kind.description = description;
  kind.option_keys = std::move(option_keys);
  kind.needs_llm = true;
  kind.factory = [tools, base_dir, name, make](const nlohmann::json& spec, const runtime::AgentId& id) {
    return make(spec, provider_for(spec, id, name, base_dir), tools);
  };
  kind.check = [tools, base_dir, option_problems](const nlohmann::json& spec) {
    auto problems = check_llm_settings(spec, tools, base_dir);
    for (auto& problem : option_problems(spec, tools)) problems.push_back(std::move(problem));
    return problems;
  };
  registry.add(std::move(kind));
}

}  // namespace

void add_llm_agent_kinds(runtime::AgentKindRegistry& registry,
                         std::shared_ptr<const tools::ToolRegistry> tools, std::string base_dir) {
  add_tool_loop_kind(registry, tools, base_dir, "assistant",
                     "an LLM that calls its tools in a loop until it can answer the task (max_iter turns)",
                     ToolLoopStyle::assistant);
  add_tool_loop_kind(registry, tools, base_dir, "tool_user",
                     "Athena tool user: tools in the model's own chat-template format, arguments validated against "
                     "each tool's schema with errors fed back, independent calls run concurrently (max_iter turns)",
                     ToolLoopStyle::tool_user);

  add_llm_kind(registry, tools, base_dir, "inot",
               "INoT reasoner: one model call whose PromptCode has two virtual agents debate inside the model "
               "(max_rounds), then the <final_answer>",
               {"max_rounds", "answer_format"},
               [](const nlohmann::json& spec, std::shared_ptr<LlmProvider> provider, const ToolsPtr&) {
                 return make_inot_agent(spec, std::move(provider));
               },
               [](const nlohmann::json& spec, const ToolsPtr&) { return reasoning_option_problems("inot", spec); });
  add_llm_kind(registry, tools, base_dir, "cot",
               "chain of thought: one model call that reasons step by step, then the <final_answer> (a baseline)",
               {"answer_format"},
               [](const nlohmann::json& spec, std::shared_ptr<LlmProvider> provider, const ToolsPtr&) {
                 return make_cot_agent(spec, std::move(provider));
               },
               [](const nlohmann::json& spec, const ToolsPtr&) { return reasoning_option_problems("cot", spec); });
  runtime::AgentKind debate;
  debate.name = "debate";
  debate.description =
      "external debate: a moderator sends the question to two debater agents and exchanges their answers for "
      "`rounds` rounds over runtime messages (a baseline for inot)";
  debate.option_keys = {"debaters", "rounds", "answer_format"};
  debate.factory = [](const nlohmann::json& spec, const runtime::AgentId&) { return make_debate_agent(spec); };
  debate.check = [](const nlohmann::json& spec) { return reasoning_option_problems("debate", spec); };
  registry.add(std::move(debate));

  add_llm_kind(registry, tools, base_dir, "formalizer",
               "Lang2Logic (prompting, no RL): the problem as schema-checked JSON, then a Python program run in the "
               "sandbox; its last printed line is the answer",
               {"schema_retries", "retries", "samples", "python_tool", "answer_format"},
               [](const nlohmann::json& spec, std::shared_ptr<LlmProvider> provider, const ToolsPtr& tools) {
                 return make_formalizer_agent(spec, std::move(provider), tools);
               },
               [](const nlohmann::json& spec, const ToolsPtr& tools) {
                 return formalizer_option_problems(spec, tools.get());
               });
}

}  // namespace chorus::agents
