#pragma once
// `--provider SPEC`: one `llm:` section that replaces every agent's own (e.g. to evaluate a workflow on another
// model).
#include <nlohmann/json.hpp>

#include <string>

namespace chorus::runtime {
struct WorkflowSpec;
}

namespace chorus::cli {

// The `llm:` settings SPEC stands for:
//   local:DIR                  {provider: local, model: DIR}
//   openai:MODEL[@BASE_URL]    {provider: openai, model: MODEL, base_url: BASE_URL}
//   scripted:FILE              {provider: scripted, file: FILE}
//   {"provider": ...}          that JSON object as it is
// DIR and FILE are made absolute against the current directory (paths inside a JSON object stay relative to the
// workflow's folder). Throws std::invalid_argument naming the accepted forms.
nlohmann::json parse_provider_spec(const std::string& spec);

// Replaces the whole `llm:` of every agent that has one with `llm` (keys of the old section are not kept);
// returns how many agents changed.
int override_agent_llms(runtime::WorkflowSpec& workflow, const nlohmann::json& llm);

}  // namespace chorus::cli
