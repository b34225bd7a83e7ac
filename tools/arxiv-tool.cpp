#include "tools/arxiv-tool.h"

#include "tools/html-text.h"

#include <pugixml.hpp>

#include <cstdlib>
#include <cstring>

namespace chorus::tools {

namespace {

constexpr int kMaxResults = 50;

// The element name without its namespace prefix ("opensearch:totalResults" -> "totalResults").
std::string_view local_name(const pugi::xml_node& node) {
  std::string_view name = node.name();
  const auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node child(const pugi::xml_node& parent, std::string_view name) {
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
    if (c.type() == pugi::node_element && local_name(c) == name) return c;
  return {};
}

std::string text_of(const pugi::xml_node& parent, std::string_view name) {
  return to_valid_utf8(collapse_whitespace(child(parent, name).text().get()));
}

long number_of(const pugi::xml_node& parent, std::string_view name) {
  return std::strtol(child(parent, name).text().get(), nullptr, 10);
}

// "http://arxiv.org/abs/2503.02812v1" -> "2503.02812v1"; old style "hep-ex/0307015v1" keeps its archive.
std::string arxiv_id_from(const std::string& abs_url) {
  const auto at = abs_url.find("/abs/");
  return at == std::string::npos ? abs_url : abs_url.substr(at + 5);
}

nlohmann::json parse_entry(const pugi::xml_node& entry) {
  nlohmann::json out;
  const std::string id = text_of(entry, "id");
  out["id"] = id;
  out["arxiv_id"] = arxiv_id_from(id);
  out["title"] = text_of(entry, "title");
  out["summary"] = text_of(entry, "summary");
  out["published"] = text_of(entry, "published");
  out["updated"] = text_of(entry, "updated");
  nlohmann::json authors = nlohmann::json::array();
  nlohmann::json categories = nlohmann::json::array();
  std::string abs_url = id;
  std::string pdf_url;
  for (pugi::xml_node c = entry.first_child(); c; c = c.next_sibling()) {
    const std::string_view name = local_name(c);
    if (name == "author") {
      authors.push_back(text_of(c, "name"));
    } else if (name == "category") {
      categories.push_back(c.attribute("term").value());
    } else if (name == "primary_category") {
      out["primary_category"] = c.attribute("term").value();
    } else if (name == "link") {
      const std::string_view rel = c.attribute("rel").value();
      if (std::strcmp(c.attribute("title").value(), "pdf") == 0)
        pdf_url = c.attribute("href").value();
      else if (rel == "alternate")
        abs_url = c.attribute("href").value();
    } else if (name == "comment" || name == "journal_ref" || name == "doi") {
      out[std::string(name)] = to_valid_utf8(collapse_whitespace(c.text().get()));
    }
  }
  if (!out.contains("primary_category")) out["primary_category"] = categories.empty() ? "" : categories[0];
  out["authors"] = std::move(authors);
  out["categories"] = std::move(categories);
  out["abs_url"] = abs_url;
  out["pdf_url"] = pdf_url;
  return out;
}

int int_argument(const nlohmann::json& args, const char* name, int fallback, int min, int max) {
  if (!args.contains(name)) return fallback;
  if (!args[name].is_number_integer()) throw ToolError(std::string("arxiv_search: '") + name + "' must be an integer");
  const auto value = args[name].get<long long>();
  if (value < min || value > max)
    throw ToolError(std::string("arxiv_search: '") + name + "' must be between " + std::to_string(min) + " and " +
                    std::to_string(max));
  return static_cast<int>(value);
}

nlohmann::json parameters_schema() {
  return {{"type", "object"},
          {"properties",
           {{"query",
             {{"type", "string"},
              {"minLength", 1},
              {"description",
               "arXiv search query. Plain words search all fields; use prefixes ti:, au:, abs:, cat:, all: and the "
               "operators AND, OR, ANDNOT, e.g. 'ti:transformer AND cat:cs.CL'."}}},
            {"max_results",
             {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxResults}, {"default", 5},
              {"description", "How many entries to return (1-50)."}}},
            {"start", {{"type", "integer"}, {"minimum", 0}, {"default", 0}, {"description", "Offset for paging."}}},
            {"sort_by",
             {{"type", "string"},
              {"enum", {"relevance", "lastUpdatedDate", "submittedDate"}},
              {"default", "relevance"},
              {"description", "Ordering of the results."}}},
            {"sort_order",
             {{"type", "string"}, {"enum", {"ascending", "descending"}}, {"default", "descending"},
              {"description", "Direction of the ordering."}}}}},
          {"required", {"query"}},
          {"additionalProperties", false}};
}

}  // namespace

ArxivOptions ArxivOptions::from_environment() {
  ArxivOptions options;
  if (const char* url = std::getenv("CHORUS_ARXIV_URL"); url && *url) options.base_url = url;
  options.http = http_options_from_environment();
  return options;
}

nlohmann::json parse_arxiv_feed(std::string_view xml) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed)
    throw ToolError(std::string("arXiv returned malformed XML: ") + parsed.description() + " at byte " +
                    std::to_string(parsed.offset));
  const pugi::xml_node feed = doc.document_element();
  if (local_name(feed) != "feed")
    throw ToolError("arXiv returned XML that is not an Atom feed (root element <" + std::string(feed.name()) + ">)");
  nlohmann::json out;
  out["total_results"] = number_of(feed, "totalResults");
  out["start_index"] = number_of(feed, "startIndex");
  nlohmann::json entries = nlohmann::json::array();
  for (pugi::xml_node e = feed.first_child(); e; e = e.next_sibling()) {
    if (e.type() != pugi::node_element || local_name(e) != "entry") continue;
    nlohmann::json entry = parse_entry(e);
    if (entry["id"].get<std::string>().find("/api/errors") != std::string::npos)
      throw ToolError("arXiv rejected the query: " + entry["summary"].get<std::string>());
    entries.push_back(std::move(entry));
  }
  out["entries"] = std::move(entries);
  return out;
}

Tool make_arxiv_tool(ArxivOptions options) {
  Tool tool;
  tool.spec.name = "arxiv_search";
  tool.spec.description =
      "Search arXiv preprints. Returns id, title, authors, abstract, dates, categories and PDF link per paper.";
  tool.spec.parameters = parameters_schema();
  std::string base = options.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  tool.handler = [client = HttpClient(options.http), url = base + "/api/query"](const nlohmann::json& args) {
    const std::string query = args.value("query", "");
    if (query.empty()) throw ToolError("arxiv_search: 'query' must be a non-empty string");
    const int max_results = int_argument(args, "max_results", 5, 1, kMaxResults);
    const int start = int_argument(args, "start", 0, 0, 1000000);
    const QueryParams params = {{"search_query", query},
                                {"start", std::to_string(start)},
                                {"max_results", std::to_string(max_results)},
                                {"sortBy", args.value("sort_by", "relevance")},
                                {"sortOrder", args.value("sort_order", "descending")}};
    std::string body;
    try {
      body = client.get(url, params, {{"Accept", "application/atom+xml"}}).body;
    } catch (const HttpError& e) {
      // arXiv answers a bad query with HTTP 400 and an Atom feed holding an error entry: report its message.
      if (e.kind() == HttpErrorKind::http_status && e.body().find("/api/errors") != std::string::npos)
        parse_arxiv_feed(e.body());
      throw ToolError("arxiv_search: " + std::string(e.what()));
    }
    nlohmann::json result = parse_arxiv_feed(body);
    result["query"] = query;
    return result;
  };
  return tool;
}

}  // namespace chorus::tools
