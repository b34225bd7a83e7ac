#pragma once
// wolfram_alpha: asks the Wolfram|Alpha LLM API ({base}/api/v1/llm-api) and returns its plain-text answer.
//
// Environment (WolframAlphaOptions::from_environment):
//   WOLFRAM_ALPHA_APPID  the AppID of a Wolfram|Alpha "LLM API" app (required to call the tool)
//   CHORUS_WOLFRAM_URL   base URL of the API (default https://www.wolframalpha.com)
//   CHORUS_HTTP_*        timeouts, retries and user agent (see tools/http-client.h)
#include "tools/http-client.h"
#include "tools/tool.h"

#include <string>

namespace chorus::tools {

// Where and how wolfram_alpha connects.
struct WolframAlphaOptions {
  std::string base_url = "https://www.wolframalpha.com";  // the API lives at {base_url}/api/v1/llm-api
  std::string app_id;                                     // empty: every call fails, naming WOLFRAM_ALPHA_APPID
  int max_chars = 6800;                                   // default answer length (the API's maxchars)
  HttpOptions http;                                       // timeouts, retries, size limit
  // The defaults overridden by WOLFRAM_ALPHA_APPID, CHORUS_WOLFRAM_URL and the CHORUS_HTTP_* variables.
  static WolframAlphaOptions from_environment();
};

// The wolfram_alpha tool: args {input, max_chars?}; result {input, answer, url?}.
// HTTP 501 (input not understood) fails with the API's suggestions; 403 fails naming the AppID variable.
Tool make_wolfram_alpha_tool(WolframAlphaOptions options);

}  // namespace chorus::tools
