#include "tools/http-fetch-tool.h"

#include "tools/text-util.h"

#include "tools/html-text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace chorus::tools {

namespace {

constexpr const char* kAllowVariable = "CHORUS_HTTP_FETCH_ALLOW";

enum class BodyKind { html, text, binary };

nlohmann::json parameters_schema() {
  return {{"type", "object"},
          {"properties",
           {{"url", {{"type", "string"}, {"minLength", 1}, {"description", "The http:// or https:// URL to fetch."}}}}},
          {"required", {"url"}},
          {"additionalProperties", false}};
}

// "text/html; charset=utf-8" -> "text/html".
std::string media_type(const std::string& content_type) {
  std::string out = content_type.substr(0, content_type.find(';'));
  out.erase(std::remove_if(out.begin(), out.end(), [](unsigned char c) { return std::isspace(c); }), out.end());
  return ascii_lower(out);
}

BodyKind classify(const std::string& type, const std::string& body) {
  if (type == "text/html" || type == "application/xhtml+xml") return BodyKind::html;
  if (type.starts_with("text/") || type.ends_with("+json") || type.ends_with("+xml") || type == "application/json" ||
      type == "application/xml" || type == "application/javascript" || type == "application/x-ndjson" ||
      type == "application/yaml" || type == "application/x-yaml" || type == "application/toml")
    return BodyKind::text;
  if (!type.empty()) return BodyKind::binary;
  // No Content-Type: sniff the first kilobyte.
  const std::string head = body.substr(0, 1024);
  if (head.find('\0') != std::string::npos) return BodyKind::binary;
  const std::string lower = ascii_lower(head);
  return lower.find("<html") != std::string::npos || lower.find("<!doctype html") != std::string::npos
             ? BodyKind::html
             : BodyKind::text;
}

std::string allowed_list(const std::vector<std::string>& hosts) {
  std::string out;
  for (const auto& h : hosts) out += (out.empty() ? "" : ", ") + h;
  return out;
}

}  // namespace

HttpFetchOptions HttpFetchOptions::from_environment() {
  HttpFetchOptions options;
  if (const char* allow = std::getenv(kAllowVariable)) options.allowed_hosts = split_host_list(allow);
  if (const char* max = std::getenv("CHORUS_HTTP_FETCH_MAX_BYTES"); max && *max) {
    std::size_t value = 0;
    std::string_view text(max);
    if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        ec == std::errc() && end == text.data() + text.size() && value > 0)
      options.max_bytes = value;
  }
  options.http = http_options_from_environment();
  return options;
}

Tool make_http_fetch_tool(HttpFetchOptions options) {
  Tool tool;
  tool.spec.name = "http_fetch";
  tool.spec.description =
      "Fetch a web page or text/JSON document by URL and return its readable text (HTML is converted to text, "
      "with the page title). Only allowlisted hosts can be fetched.";
  tool.spec.parameters = parameters_schema();
  HttpOptions http = options.http;
  http.allowed_hosts = options.allowed_hosts;
  http.max_response_bytes = options.max_bytes;
  http.truncate_oversize = true;
  tool.handler = [client = HttpClient(http), allowed = options.allowed_hosts,
                  max_bytes = options.max_bytes](const nlohmann::json& args) {
    const std::string url = args.value("url", "");
    UrlParts parts;
    try {
      parts = parse_url(url);
    } catch (const HttpError&) {
      throw ToolError("http_fetch: '" + url + "' is not a valid absolute URL");
    }
    if (parts.scheme != "http" && parts.scheme != "https")
      throw ToolError("http_fetch: only http:// and https:// URLs can be fetched, not " + parts.scheme + "://");
    if (allowed.empty())
      throw ToolError(std::string("http_fetch is disabled: no hosts are allowed. Set the environment variable ") +
                      kAllowVariable + " to a comma-separated list of host names (e.g. \"en.wikipedia.org,*.python.org\")"
                      " or to \"*\" to allow any host");
    if (!host_allowed(parts.host, allowed))
      throw ToolError("http_fetch refused: host " + parts.host + " is not allowed (" + kAllowVariable + ": " +
                      allowed_list(allowed) + ")");
    HttpResponse response;
    try {
      response = client.get(url);
    } catch (const HttpError& e) {
      throw ToolError("http_fetch: " + std::string(e.what()));
    }
    const std::string type = media_type(response.header("content-type"));
    const BodyKind kind = classify(type, response.body);
    if (kind == BodyKind::binary)
      throw ToolError("http_fetch: " + url + " returned binary content (" + type +
                      "); only HTML, text and JSON can be fetched");
    nlohmann::json result = {{"url", url},
                             {"final_url", response.final_url},
                             {"status", response.status},
                             {"content_type", type},
                             {"bytes", response.body.size()},
                             {"truncated", response.truncated}};
    std::string text;
    if (kind == BodyKind::html) {
      HtmlText page = html_to_text(response.body);
      result["title"] = to_valid_utf8(page.title);
      text = to_valid_utf8(page.text);
    } else {
      text = to_valid_utf8(response.body);
    }
    if (response.truncated)
      text += "\n[... truncated: the response was larger than " + std::to_string(max_bytes) + " bytes]";
    result["text"] = std::move(text);
    return result;
  };
  return tool;
}

}  // namespace chorus::tools
