#pragma once
// Chat messages and tools rendered through a model's own chat template (the local provider's prompt).
#include "agents/llm.h"
#include "inference/chat-template.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace chorus::agents {

// The messages in the shapes Hugging Face templates expect: {role, content}; an assistant's calls as
// tool_calls [{id, type: function, function: {name, arguments (an object when the text is JSON)}}]; tool
// messages with tool_call_id and name.
nlohmann::ordered_json template_messages(const std::vector<ChatMessage>& messages);

// The prompt text for `request` with add_generation_prompt; `tools` is request.tools in OpenAI format (none when
// empty or tool_choice is "none"). Throws LlmError naming `template_file` when the template fails.
std::string render_chat_prompt(const inference::ChatTemplate& chat_template, const LlmRequest& request,
                               const std::string& template_file);

}  // namespace chorus::agents
