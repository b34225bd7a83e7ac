#pragma once
// kind: formalizer: Lang2Logic (arXiv 2507.08501) as prompting, without the paper's RL training.
#include "agents/llm.h"
#include "runtime/agent.h"
#include "tools/tool-registry.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace chorus::agents {

// Stage 1: the model writes the problem's structure as strict JSON (problem_overview, model_type, variables
// [{name, domain, meaning}], constraints, objective), validated against a JSON Schema and re-asked with the
// validator's message. Stage 2: a Python program from the question and the structure, run by the sandboxed
// python tool, its error fed back on failure; the last printed line is the answer. Options (spec["options"]):
// schema_retries (0..5, default 2), retries (0..5, default 2), samples (1..9, default 1: majority vote over
// programs), python_tool (default "python"), answer_format (text|number|letter, default text).
std::unique_ptr<runtime::Agent> make_formalizer_agent(const nlohmann::json& agent_spec,
                                                      std::shared_ptr<LlmProvider> provider,
                                                      std::shared_ptr<const tools::ToolRegistry> tools);

// The first problem in a formalizer agent's options (naming the option and the fix; the python tool is looked
// up in `tools` when given), as the kind's workflow check reports it; empty when they are fine.
std::vector<std::string> formalizer_option_problems(const nlohmann::json& agent_spec,
                                                    const tools::ToolRegistry* tools);

}  // namespace chorus::agents
