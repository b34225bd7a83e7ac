#include "cli/provider-override.h"

#include "runtime/workflow-spec.h"

#include <filesystem>
#include <stdexcept>

namespace chorus::cli {
namespace {

const char* const kForms = "use local:DIR, openai:MODEL[@BASE_URL], scripted:FILE or a JSON object like "
                           "'{\"provider\": \"openai\", \"model\": \"gpt-4o-mini\"}'";

std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(std::filesystem::path(path)).lexically_normal().string();
}

}  // namespace

nlohmann::json parse_provider_spec(const std::string& spec) {
  if (!spec.empty() && spec.front() == '{') {
    nlohmann::json j = nlohmann::json::parse(spec, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::invalid_argument("--provider '" + spec + "' is not a valid JSON object; " + kForms);
    if (!j.contains("provider") || !j["provider"].is_string())
      throw std::invalid_argument("--provider: the JSON object needs a \"provider\" (local, openai or scripted)");
    return j;
  }
  const size_t colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? spec : spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "local" || kind == "scripted" || kind == "openai") {
    if (rest.empty())
      throw std::invalid_argument("--provider '" + spec + "' names no " +
                                  (kind == "local" ? "model directory" : kind == "openai" ? "model" : "file") + "; " +
                                  kForms);
    if (kind == "local") return {{"provider", "local"}, {"model", absolute_path(rest)}};
    if (kind == "scripted") return {{"provider", "scripted"}, {"file", absolute_path(rest)}};
    const size_t at = rest.find('@');
    nlohmann::json llm{{"provider", "openai"}, {"model", rest.substr(0, at)}};
    if (at != std::string::npos) llm["base_url"] = rest.substr(at + 1);
    if (llm["model"].get<std::string>().empty())
      throw std::invalid_argument("--provider '" + spec + "' names no model before '@'; " + kForms);
    return llm;
  }
  throw std::invalid_argument("--provider '" + spec + "' is not a provider spec; " + kForms);
}

int override_agent_llms(runtime::WorkflowSpec& workflow, const nlohmann::json& llm) {
  int changed = 0;
  for (auto& [name, agent] : workflow.agents) {
    if (agent.llm.is_null()) continue;
    agent.llm = llm;
    ++changed;
  }
  return changed;
}

}  // namespace chorus::cli
