#include "tools/wolfram-alpha-tool.h"

#include "tools/html-text.h"

#include <cstdlib>

namespace chorus::tools {

namespace {

constexpr const char* kAppIdVariable = "WOLFRAM_ALPHA_APPID";

nlohmann::json parameters_schema() {
  return {{"type", "object"},
          {"properties",
           {{"input",
             {{"type", "string"},
              {"minLength", 1},
              {"description",
               "A short, simplified English query, e.g. 'population of France / population of Germany' or "
               "'integrate x^2 sin x dx'. Send numbers with units and use proper math notation."}}},
            {"max_chars",
             {{"type", "integer"}, {"minimum", 100}, {"maximum", 20000},
              {"description", "Longest answer wanted, in characters (default 6800)."}}}}},
          {"required", {"input"}},
          {"additionalProperties", false}};
}

// The "Wolfram|Alpha website result ..." link the API appends to every answer, or "".
std::string website_link(const std::string& answer) {
  const auto at = answer.rfind("https://www.wolframalpha.com/input");
  if (at == std::string::npos) return "";
  const auto end = answer.find_first_of(" \r\n\t", at);
  return answer.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \r\n\t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \r\n\t") - first + 1);
}

}  // namespace

WolframAlphaOptions WolframAlphaOptions::from_environment() {
  WolframAlphaOptions options;
  if (const char* id = std::getenv(kAppIdVariable)) options.app_id = id;
  if (const char* url = std::getenv("CHORUS_WOLFRAM_URL"); url && *url) options.base_url = url;
  options.http = http_options_from_environment();
  return options;
}

Tool make_wolfram_alpha_tool(WolframAlphaOptions options) {
  Tool tool;
  tool.spec.name = "wolfram_alpha";
  tool.spec.description =
      "Ask Wolfram|Alpha for computations, math, unit conversions, and facts about science, geography, "
      "people, finance and more. Returns a plain-text answer.";
  tool.spec.parameters = parameters_schema();
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  tool.handler = [client = HttpClient(options.http), url = base + "/api/v1/llm-api", app_id = options.app_id,
                  max_chars = options.max_chars](const nlohmann::json& args) {
    if (app_id.empty())
      throw ToolError(std::string("wolfram_alpha is not configured: set the environment variable ") + kAppIdVariable +
                      " to the AppID of a Wolfram|Alpha LLM API app (https://developer.wolframalpha.com)");
    const std::string input = args.value("input", "");
    if (input.empty()) throw ToolError("wolfram_alpha: 'input' must be a non-empty string");
    int chars = max_chars;
    if (auto it = args.find("max_chars"); it != args.end() && it->is_number_integer()) chars = it->get<int>();
    std::string answer;
    try {
      answer = client.get(url, {{"input", input}, {"appid", app_id}, {"maxchars", std::to_string(chars)}}).body;
    } catch (const HttpError& e) {
      const std::string body = trimmed(to_valid_utf8(e.body()));
      if (e.kind() == HttpErrorKind::http_status && e.status() == 501)
        throw ToolError("Wolfram|Alpha could not interpret the input \"" + input + "\"" +
                        (body.empty() ? std::string(".") : ": " + body));
      if (e.kind() == HttpErrorKind::http_status && e.status() == 403)
        throw ToolError(std::string("Wolfram|Alpha rejected the AppID (HTTP 403") + (body.empty() ? "" : ": " + body) +
                        "); check the environment variable " + kAppIdVariable);
      if (e.kind() == HttpErrorKind::http_status && e.status() == 400)
        throw ToolError("Wolfram|Alpha rejected the request (HTTP 400" + (body.empty() ? "" : ": " + body) + ")");
      throw ToolError("wolfram_alpha: " + std::string(e.what()));
    }
    answer = trimmed(to_valid_utf8(answer));
    nlohmann::json result = {{"input", input}, {"answer", answer}};
    if (std::string link = website_link(answer); !link.empty()) result["url"] = link;
    return result;
  };
  return tool;
}

}  // namespace chorus::tools
