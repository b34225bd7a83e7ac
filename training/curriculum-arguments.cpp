// The "arguments" task: plain documents of tool questions, each followed by the call the assistant makes for it, so
// that finding a question's numbers and dates for the call's arguments is trained many times per document (run 8,
// docs/curriculum.md).
#include "training/curriculum-tasks.h"

namespace chorus::training::curriculum {

// Plain documents "<|endoftext|>[preamble]Q1\n<tool_call>\n{call 1}\n</tool_call>\nQ2\n<tool_call>\n...": each
// question is drawn as the calculator (65%), calendar (25%) or multi task (10%, two calls) would draw it, and its
// calls rendered by the chat template, so the target is byte for byte what the assistant writes in chat after
// "<tool_call>\n" (for two calls: the first, "\n</tool_call>\n<tool_call>\n", the second). In a session a
// call's arguments are a few tokens of a ~300-token example; here they are most of the targets, and the question
// they come from is always the line just before.
Conversation make_arguments_task(TaskContext& ctx) {
  if (!ctx.chat_template) throw CurriculumError("the arguments task needs the chat template");
  Conversation c;
  c.task = "arguments";
  std::string given = "<|endoftext|>" + preamble(ctx);
  for (int64_t n = ctx.rng.range(4, 8); n > 0; --n) {
    const uint64_t kind = ctx.rng.below(20);  // 65% calculator, 25% calendar, 10% two calls (the multi task)
    const Conversation one = kind < 13   ? make_calculator_task(ctx)
                             : kind < 18 ? make_calendar_task(ctx)
                                         : make_multi_task(ctx);
    std::string question;
    nlohmann::ordered_json call_message;
    for (const auto& m : one.messages) {
      if (question.empty() && m.value("role", "") == "user") question = m.value("content", "");
      if (call_message.is_null() && m.contains("tool_calls")) call_message = m;
    }
    const std::string rendered =
        ctx.chat_template->render(nlohmann::ordered_json::array({call_message}), nlohmann::ordered_json(), false);
    static const std::string kOpen = "<tool_call>\n", kClose = "\n</tool_call>";
    const size_t open = rendered.find(kOpen), close = rendered.rfind(kClose);  // every call of the turn
    if (question.empty() || open == std::string::npos || close == std::string::npos)
      throw CurriculumError("arguments task: a question without a tool call");
    given.append(question).append("\n").append(kOpen);
    c.document.push_back({given, false});
    std::string call = rendered.substr(open + kOpen.size(), close + kClose.size() - open - kOpen.size());
    c.document.push_back({std::move(call), true});
    given.clear();
    given.push_back('\n');
  }
  return c;
}

}  // namespace chorus::training::curriculum
