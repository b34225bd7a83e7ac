#include "agents/agent-kinds.h"

#include "agents/assistant-agent.h"
#include "agents/llm.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::agents {

void add_llm_agent_kinds(runtime::AgentKindRegistry& registry,
                         std::shared_ptr<const tools::ToolRegistry> tools, std::string base_dir) {
  runtime::AgentKind assistant;
  assistant.name = "assistant";
  assistant.description =
      "an LLM that calls its tools in a loop until it can answer the task (max_iter turns)";
  assistant.needs_llm = true;
  assistant.factory = [tools, base_dir](const nlohmann::json& spec, const runtime::AgentId& id) {
    if (!spec.is_object() || !spec.contains("llm") || spec["llm"].is_null())
      throw std::invalid_argument("agent '" + id.type +
                                  "' (kind assistant) needs an `llm:` section, e.g. "
                                  "{provider: openai, model: gpt-4o-mini}");
    std::shared_ptr<LlmProvider> provider = make_llm_provider(spec["llm"], base_dir);
    return make_assistant_agent(spec, std::move(provider), tools);
  };
  assistant.check = [tools, base_dir](const nlohmann::json& spec) {
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
  };
  registry.add(std::move(assistant));
}

}  // namespace chorus::agents
