#include "tools/web-search-tool.h"

#include <cstdlib>

namespace chorus::tools {

namespace {

constexpr int kMaxResults = 20;

nlohmann::json parameters_schema() {
  return {{"type", "object"},
          {"properties",
           {{"query", {{"type", "string"}, {"minLength", 1}, {"description", "What to search the web for."}}},
            {"max_results",
             {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxResults}, {"default", 5},
              {"description", "How many results to return (1-20)."}}},
            {"page", {{"type", "integer"}, {"minimum", 1}, {"default", 1}, {"description", "Result page, from 1."}}},
            {"language",
             {{"type", "string"}, {"description", "Language code such as 'en' or 'de-CH' (instance default if absent)."}}},
            {"categories",
             {{"type", "string"},
              {"description", "Comma-separated SearXNG categories, e.g. 'general', 'news', 'science', 'it'."}}}}},
          {"required", {"query"}},
          {"additionalProperties", false}};
}

std::string string_field(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// SearXNG lists answers as strings (older) or objects with an "answer" field (newer).
nlohmann::json answer_texts(const nlohmann::json& answers) {
  nlohmann::json out = nlohmann::json::array();
  if (!answers.is_array()) return out;
  for (const auto& a : answers) {
    if (a.is_string())
      out.push_back(a);
    else if (a.is_object() && a.contains("answer") && a["answer"].is_string())
      out.push_back(a["answer"]);
  }
  return out;
}

int int_argument(const nlohmann::json& args, const char* name, int fallback, int min, int max) {
  auto it = args.find(name);
  if (it == args.end()) return fallback;
  if (!it->is_number_integer() || it->get<long long>() < min || it->get<long long>() > max)
    throw ToolError(std::string("web_search: '") + name + "' must be an integer between " + std::to_string(min) +
                    " and " + std::to_string(max));
  return it->get<int>();
}

}  // namespace

WebSearchOptions WebSearchOptions::from_environment() {
  WebSearchOptions options;
  if (const char* url = std::getenv("CHORUS_SEARXNG_URL")) options.base_url = url;
  options.http = http_options_from_environment();
  return options;
}

nlohmann::json parse_searxng_results(std::string_view body, int max_results) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw ToolError(std::string("SearXNG returned malformed JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array())
    throw ToolError("SearXNG returned JSON without a \"results\" array");
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : doc["results"]) {
    if (static_cast<int>(results.size()) >= max_results) break;
    if (!r.is_object()) continue;
    results.push_back({{"title", string_field(r, "title")},
                       {"url", string_field(r, "url")},
                       {"content", string_field(r, "content")},
                       {"engine", string_field(r, "engine")}});
  }
  nlohmann::json out;
  out["query"] = string_field(doc, "query");
  out["number_of_results"] = doc.value("number_of_results", nlohmann::json(0));
  out["results"] = std::move(results);
  out["answers"] = answer_texts(doc.value("answers", nlohmann::json::array()));
  nlohmann::json suggestions = nlohmann::json::array();
  if (auto it = doc.find("suggestions"); it != doc.end() && it->is_array())
    for (const auto& s : *it)
      if (s.is_string()) suggestions.push_back(s);
  out["suggestions"] = std::move(suggestions);
  return out;
}

Tool make_web_search_tool(WebSearchOptions options) {
  Tool tool;
  tool.spec.name = "web_search";
  tool.spec.description =
      "Search the web. Returns the top results with title, URL and a content snippet; fetch a page with "
      "http_fetch for its full text.";
  tool.spec.parameters = parameters_schema();
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  tool.handler = [client = HttpClient(options.http), base](const nlohmann::json& args) {
    if (base.empty())
      throw ToolError(
          "web_search is not configured: set the environment variable CHORUS_SEARXNG_URL to the base URL of a "
          "SearXNG instance with the json format enabled (e.g. http://localhost:8888)");
    const std::string query = args.value("query", "");
    if (query.empty()) throw ToolError("web_search: 'query' must be a non-empty string");
    const int max_results = int_argument(args, "max_results", 5, 1, kMaxResults);
    QueryParams params = {{"q", query},
                          {"format", "json"},
                          {"pageno", std::to_string(int_argument(args, "page", 1, 1, 100))}};
    if (std::string language = args.value("language", ""); !language.empty()) params.emplace_back("language", language);
    if (std::string categories = args.value("categories", ""); !categories.empty())
      params.emplace_back("categories", categories);
    std::string body;
    try {
      body = client.get(base + "/search", params, {{"Accept", "application/json"}}).body;
    } catch (const HttpError& e) {
      if (e.kind() == HttpErrorKind::http_status && e.status() == 403)
        throw ToolError("web_search: SearXNG at " + e.host() +
                        " refused format=json (HTTP 403); enable \"json\" under search.formats in its settings.yml");
      throw ToolError("web_search: " + std::string(e.what()));
    }
    nlohmann::json result = parse_searxng_results(body, max_results);
    if (result["query"] == "") result["query"] = query;
    return result;
  };
  return tool;
}

}  // namespace chorus::tools
