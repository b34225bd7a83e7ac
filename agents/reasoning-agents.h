#pragma once
// Reasoning agent kinds without tools: INoT (PromptCode, one call), single-call chain of thought, and the
// external two-agent debate (a moderator exchanging runtime messages with two debater agents).
#include "agents/llm.h"
#include "runtime/agent.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace chorus::agents {

// kind: inot (arXiv 2507.08664). Options (spec["options"]): max_rounds (1..50, default 10), answer_format
// (text|number|letter, default text). Reply output: the extracted final answer; details: {raw, rounds_used?,
// ...}.
std::unique_ptr<runtime::Agent> make_inot_agent(const nlohmann::json& agent_spec,
                                                std::shared_ptr<LlmProvider> provider);

// kind: cot. One model call asking for step-by-step reasoning and a final_answer tag. Options: answer_format.
std::unique_ptr<runtime::Agent> make_cot_agent(const nlohmann::json& agent_spec,
                                               std::shared_ptr<LlmProvider> provider);

// kind: debate (no llm). Options: debaters ([A, B]: names of two workflow agents), rounds (1..10, default 2),
// answer_format. Sends the question to both, then R rounds of "here is the other's answer: critique, rebut,
// adjust"; output: debater A's final answer; usage: the sum of both debaters' tokens.
std::unique_ptr<runtime::Agent> make_debate_agent(const nlohmann::json& agent_spec);

// The option errors the factory of `kind` (inot, cot, debate) would throw for `agent_spec`, without the agent
// name prefix; empty when the options are fine. For AgentKind::check, so `chorus workflow check` finds them.
std::vector<std::string> reasoning_option_problems(const std::string& kind, const nlohmann::json& agent_spec);

}  // namespace chorus::agents
