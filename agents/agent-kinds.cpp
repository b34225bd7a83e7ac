#include "agents/agent-kinds.h"

#include "agents/assistant-agent.h"
#include "agents/llm.h"

#include <stdexcept>

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
  registry.add(std::move(assistant));
}

}  // namespace chorus::agents
