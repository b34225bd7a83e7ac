#include "agents/task-prompt.h"

namespace chorus::agents {
namespace {

// Appends `part` as its own paragraph line when it is not empty.
void add_line(std::string& out, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out.append("\n");
  out.append(part);
}

std::string output_text(const nlohmann::json& output) {
  if (output.is_string()) return output.get<std::string>();
  return output.dump(2);
}

}  // namespace

std::string render_system_prompt(const std::string& role, const std::string& goal,
                                 const std::string& instructions,
                                 const std::vector<std::string>& tool_names) {
  std::string out;
  if (!role.empty()) add_line(out, "You are " + role + ".");
  if (!goal.empty()) add_line(out, "Your goal: " + goal);
  add_line(out, instructions);
  // Without a persona there is no system message at all: the tools still reach the model (the chat template's
  // tool list, or the API's `tools`), and a chat template's own default system turn applies.
  if (!out.empty() && !tool_names.empty()) {
    std::string names;
    for (const auto& name : tool_names) {
      if (!names.empty()) names.append(", ");
      names.append(name);
    }
    add_line(
        out,
        "You can call these tools: " + names +
            ". Call one when it helps (several independent calls may go in one turn); when you have what "
            "you need, reply with the answer itself and no tool call.");
  }
  return out;
}

std::string render_task_prompt(const runtime::TaskRequest& request) {
  std::string out = request.description;
  if (!request.context.empty()) {
    out.append("\n\nContext from earlier tasks:");
    for (const auto& item : request.context) {
      out.append("\n\n## ");
      out.append(item.task);
      out.append("\n");
      out.append(output_text(item.output));
    }
  }
  if (!request.expected_output.empty()) {
    out.append("\n\nExpected output: ");
    out.append(request.expected_output);
  }
  if (!request.output_schema.is_null()) {
    out.append("\n\nAnswer with JSON only (no other text), matching this JSON Schema:\n");
    out.append(request.output_schema.dump(2));
  }
  return out;
}

}  // namespace chorus::agents
