// chorus tools list|schema|call: inspect and call the built-in tools.
#include "cli/command-registry.h"
#include "tools/builtin-tools.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace chorus::cli {
namespace {

std::string read_arguments(const std::string& text) {
  if (text == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  if (!text.empty() && text[0] == '@') {
    std::ifstream in(text.substr(1), std::ios::binary);
    if (!in) {
      std::cerr << "chorus tools call: cannot read arguments file '" << text.substr(1) << "'\n";
      exit_with(2);
    }
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  return text;
}

void install_tools_command(CLI::App& root) {
  auto* tools = root.add_subcommand("tools", "List, describe and call the built-in tools");
  tools->require_subcommand(1);

  auto* list = tools->add_subcommand("list", "List the tools (name and description)");
  static bool as_json = false;
  list->add_flag("--json", as_json, "Print the tools in OpenAI function format");
  list->callback([] {
    auto registry = tools::make_builtin_registry();
    if (as_json) {
      std::cout << registry.openai_tools().dump(2) << "\n";
      return;
    }
    for (const auto* tool : registry.list()) std::cout << tool->spec.name << "\t" << tool->spec.description << "\n";
  });

  auto* schema = tools->add_subcommand("schema", "Print a tool's parameter schema (JSON Schema 2020-12)");
  static std::string schema_name;
  schema->add_option("name", schema_name, "Tool name")->required();
  schema->callback([] {
    auto registry = tools::make_builtin_registry();
    const auto* tool = registry.find(schema_name);
    if (!tool) {
      std::cerr << "chorus tools schema: unknown tool '" << schema_name << "'; see `chorus tools list`\n";
      exit_with(2);
    }
    nlohmann::json out = {{"name", tool->spec.name},
                          {"description", tool->spec.description},
                          {"parameters", tool->spec.parameters}};
    if (tool->spec.result_schema) out["result"] = *tool->spec.result_schema;
    std::cout << out.dump(2) << "\n";
  });

  auto* call = tools->add_subcommand(
      "call", "Call a tool: prints its result as JSON (exit 0), invalid arguments exit 2, tool failure exit 1");
  static std::string call_name, call_args;
  call->add_option("name", call_name, "Tool name")->required();
  call->add_option("arguments", call_args, "JSON arguments object, '@FILE' to read a file, or '-' for stdin")
      ->required();
  call->callback([] {
    auto registry = tools::make_builtin_registry();
    auto result = registry.call_text(call_name, read_arguments(call_args));
    switch (result.status) {
      case tools::CallStatus::ok: {
        nlohmann::json out = result.value.is_object() ? result.value : nlohmann::json{{"result", result.value}};
        std::cout << out.dump(2) << "\n";
        return;
      }
      case tools::CallStatus::invalid_arguments:
      case tools::CallStatus::unknown_tool:
        std::cerr << "chorus tools call: " << result.error << "\n";
        exit_with(2);
      case tools::CallStatus::failed:
        std::cerr << "chorus tools call: " << result.error << "\n";
        exit_with(1);
    }
  });
}

}  // namespace

CHORUS_CLI_COMMAND(tools, 20, install_tools_command);

}  // namespace chorus::cli
