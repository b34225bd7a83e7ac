#include "tools/python-tool.h"

#include "tools/html-text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace chorus::tools {
namespace {

using nlohmann::json;

// The positive integer in variable `name`, or `fallback` when unset; throws std::invalid_argument otherwise.
long long env_positive(const char* name, long long fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  const std::string_view text(value);
  long long parsed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || parsed <= 0) {
    throw std::invalid_argument(std::string(name) + " must be a positive integer, not '" + value + "'");
  }
  return parsed;
}

long long timeout_limit_seconds(const SandboxLimits& limits) {
  return std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(limits.timeout).count());
}

json parameters_schema(long long max_timeout) {
  return {
      {"type", "object"},
      {"properties",
       {{"code",
         {{"type", "string"},
          {"minLength", 1},
          {"description", "The Python 3 program; print what you need"}}},
        {"stdin", {{"type", "string"}, {"description", "Text given to the program on standard input"}}},
        {"timeout_seconds",
         {{"type", "integer"},
          {"minimum", 1},
          {"maximum", max_timeout},
          {"description", "Wall-clock limit in seconds (default " + std::to_string(max_timeout) + ")"}}}}},
      {"required", {"code"}},
      {"additionalProperties", false}};
}

json result_schema() {
  return {{"type", "object"},
          {"properties",
           {{"stdout", {{"type", "string"}}},
            {"stderr", {{"type", "string"}}},
            {"exit_code", {{"type", "integer"}}},
            {"timed_out", {{"type", "boolean"}}},
            {"truncated", {{"type", "boolean"}}},
            {"sandbox", {{"type", "string"}, {"enum", {"bubblewrap", "rlimits"}}}},
            {"elapsed_ms", {{"type", "number"}}}}},
          {"required", {"stdout", "stderr", "exit_code", "timed_out", "truncated", "sandbox", "elapsed_ms"}}};
}

json to_result(const PythonRun& run) {
  const ProcessOutcome& o = run.outcome;
  return {{"stdout", to_valid_utf8(o.out)},
          {"stderr", to_valid_utf8(o.err)},
          {"exit_code", o.exit_code},
          {"timed_out", o.timed_out},
          {"truncated", o.truncated},
          {"sandbox", to_string(run.sandbox)},
          {"elapsed_ms", std::round(o.elapsed_ms * 10) / 10}};
}

}  // namespace

PythonSandboxConfig python_config_from_environment() {
  PythonSandboxConfig config;
  if (const char* mode = std::getenv("CHORUS_PYTHON_SANDBOX"); mode != nullptr && *mode != '\0') {
    try {
      config.mode = parse_sandbox_mode(mode);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("CHORUS_PYTHON_SANDBOX: ") + e.what());
    }
  }
  config.limits.timeout = std::chrono::seconds(env_positive("CHORUS_PYTHON_TIMEOUT", 10));
  config.limits.memory_bytes =
      static_cast<std::size_t>(
          env_positive("CHORUS_PYTHON_MEMORY_MB", static_cast<long long>(config.limits.memory_bytes >> 20)))
      << 20;
  config.limits.output_bytes = static_cast<std::size_t>(
      env_positive("CHORUS_PYTHON_OUTPUT_BYTES", static_cast<long long>(config.limits.output_bytes)));
  if (const char* path = std::getenv("CHORUS_PYTHON_INTERPRETER"); path != nullptr && *path != '\0') {
    config.interpreter = path;
  }
  return config;
}

Tool make_python_tool(PythonSandboxConfig config) {
  const long long max_timeout = timeout_limit_seconds(config.limits);
  Tool tool;
  tool.spec.name = "python";
  tool.spec.description =
      "Run a short Python 3 program (standard library only) in a fresh scratch directory under time and "
      "memory limits, and get its stdout, stderr and exit code. Print the values you want to see.";
  tool.spec.parameters = parameters_schema(max_timeout);
  tool.spec.result_schema = result_schema();
  tool.handler = [config = std::move(config), max_timeout](const json& args) {
    PythonSandboxConfig run_config = config;
    if (auto it = args.find("timeout_seconds"); it != args.end() && it->is_number_integer()) {
      run_config.limits.timeout =
          std::chrono::seconds(std::clamp<long long>(it->get<long long>(), 1, max_timeout));
    }
    const std::string code = args.value("code", "");
    const std::string input = args.value("stdin", "");
    return to_result(run_python(code, input, run_config));
  };
  return tool;
}

void register_python_tool(ToolRegistry& registry) {
  PythonSandboxConfig config;
  std::string config_error;
  try {
    config = python_config_from_environment();
  } catch (const std::invalid_argument& e) {
    config_error = e.what();
  }
  Tool tool = make_python_tool(config);
  if (!config_error.empty()) {
    tool.handler = [config_error](const json&) -> json {
      throw ToolError("the python tool is misconfigured: " + config_error);
    };
  }
  registry.add(std::move(tool));
}

}  // namespace chorus::tools
