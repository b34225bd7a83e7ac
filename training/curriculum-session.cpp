// The "session" task: one conversation of 2-4 questions in a row, each answered as its own task would (a calculator
// or calendar call and the answer, two calls, or copying), under one system message and one tool list. The tool
// list is most of a single-question example's tokens and none of its targets; a session pays for it once, so a
// training step holds about twice the answer tokens, and later questions teach the model to answer the newest one.
#include "training/curriculum-tasks.h"

namespace chorus::training::curriculum {

Conversation make_session_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "session", true, 0.5);
  for (int64_t n = ctx.rng.range(2, 4); n > 0; --n) {
    const uint64_t kind = ctx.rng.below(20);
    const Conversation one = kind < 9    ? make_calculator_task(ctx)
                             : kind < 15 ? make_calendar_task(ctx)
                             : kind < 17 ? make_multi_task(ctx)
                                         : make_copy_task(ctx);
    for (const auto& message : one.messages) {
      if (message.value("role", "") != "system") c.messages.push_back(message);
    }
  }
  return c;
}

}  // namespace chorus::training::curriculum
