// ChatTemplate: the transformers apply_chat_template environment on top of the Jinja interpreter.
#include "inference/chat-template.h"

#include <ctime>

#include "inference/jinja-error.h"
#include "inference/jinja-value.h"

namespace chorus::inference {
namespace {

std::string format_local_time(std::chrono::system_clock::time_point when, const std::string& format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  localtime_r(&t, &tm);
  if (format.empty()) return "";
  std::string buf(format.size() * 4 + 64, '\0');
  while (true) {
    const size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &tm);
    if (n > 0 || buf.size() > 65536) return buf.substr(0, n);
    buf.resize(buf.size() * 2);
  }
}

}  // namespace

ChatTemplate::ChatTemplate(const std::string& source, ChatTemplateOptions options)
    : template_(source), options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                                 bool add_generation_prompt,
                                 const nlohmann::ordered_json& extra_context) const {
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = messages;
  context["tools"] = tools;
  context["add_generation_prompt"] = add_generation_prompt;
  if (extra_context.is_object()) {
    for (const auto& [k, v] : extra_context.items()) context[k] = v;
  }
  return render_context(context);
}

std::string ChatTemplate::render_context(const nlohmann::ordered_json& context) const {
  using jinja::Value;
  jinja::Dict variables;
  auto clock = options_.clock;
  variables.set("strftime_now", Value::function("strftime_now", [clock](const jinja::Arguments& a) {
                  if (a.positional.size() != 1 || !a.positional[0].is_string() || !a.keyword.empty()) {
                    throw jinja::OperationError("strftime_now() takes one format string");
                  }
                  return Value(format_local_time(clock(), a.positional[0].as_string()));
                }));
  if (options_.bos_token) variables.set("bos_token", Value(*options_.bos_token));
  if (options_.eos_token) variables.set("eos_token", Value(*options_.eos_token));
  if (context.is_object()) {
    for (const auto& [k, v] : context.items()) variables.set(k, Value::from_json(v));
  } else if (!context.is_null()) {
    throw TemplateError(jinja::SourcePos{}, "chat template context must be a JSON object");
  }
  return template_.render(variables);
}

std::string render_chat_template(const std::string& template_source, const nlohmann::ordered_json& context) {
  return ChatTemplate(template_source).render_context(context);
}

}  // namespace chorus::inference
