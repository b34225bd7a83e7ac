#include "agents/local-chat-prompt.h"

namespace chorus::agents {

using Json = nlohmann::ordered_json;

nlohmann::ordered_json template_messages(const std::vector<ChatMessage>& messages) {
  Json out = Json::array();
  for (const auto& m : messages) {
    Json j = {{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      Json calls = Json::array();
      for (const auto& call : m.tool_calls) {
        Json arguments = Json::parse(call.arguments_text, nullptr, /*allow_exceptions=*/false);
        if (arguments.is_discarded()) arguments = call.arguments_text;
        calls.push_back({{"id", call.id},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", std::move(arguments)}}}});
      }
      j["tool_calls"] = std::move(calls);
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    if (!m.name.empty()) j["name"] = m.name;
    out.push_back(std::move(j));
  }
  return out;
}

std::string render_chat_prompt(const inference::ChatTemplate& chat_template, const LlmRequest& request,
                               const std::string& template_file) {
  Json tools = nullptr;
  if (request.tool_choice != "none" && request.tools.is_array() && !request.tools.empty())
    tools = Json::parse(request.tools.dump());
  try {
    return chat_template.render(template_messages(request.messages), tools, /*add_generation_prompt=*/true);
  } catch (const inference::TemplateRaisedError& e) {
    throw LlmError("local provider: the chat template of " + template_file + " rejected the conversation: " +
                       e.what(), false);
  } catch (const inference::TemplateError& e) {
    throw LlmError("local provider: rendering the chat template of " + template_file + " failed: " + e.what(), false);
  }
}

}  // namespace chorus::agents
