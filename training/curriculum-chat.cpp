// The "chat" task (small talk answered without tools, so that the model does not call tools for everything) and
// the "passkey" task (training/passkey-data.h: a number hidden in filler text, asked at the end).
#include "training/curriculum-tasks.h"
#include "training/passkey-data.h"

namespace chorus::training::curriculum {
namespace {

struct Exchange {
  std::string user;
  std::string assistant;
};

const std::vector<Exchange>& fixed_exchanges(bool held_out) {
  static const std::vector<Exchange> train = {
      {"Hello!", "Hello! How can I help you today?"},
      {"Hi", "Hi! What can I do for you?"},
      {"hello", "Hello! What can I do for you?"},
      {"Good morning.", "Good morning! How can I help?"},
      {"Thanks!", "You're welcome!"},
      {"Thank you very much.", "You're welcome. Happy to help."},
      {"Who are you?",
       "I am Chorus, a small assistant. I can do arithmetic and date calculations with my tools, and find "
       "information in text you give me."},
      {"What can you do?",
       "I can calculate with the calculator tool, work with dates using the calendar tool, and answer questions "
       "about text you give me."},
      {"How are you?", "I'm doing well, thanks for asking. How can I help?"},
      {"Goodbye!", "Goodbye! Have a nice day."},
      {"Can you help me?", "Of course. What do you need?"},
      {"Are you a human?", "No, I am an AI assistant called Chorus."},
      {"Tell me about yourself.",
       "I am Chorus, a small assistant model. I use a calculator for arithmetic and a calendar for dates."},
      {"ok", "Let me know if you need anything else."},
  };
  static const std::vector<Exchange> eval = {
      {"Hey there!", "Hey! How can I help?"},
      {"Good evening.", "Good evening! What can I do for you?"},
      {"Thanks a lot, that helped.", "Glad it helped!"},
  };
  return held_out ? eval : train;
}

const std::vector<std::string> kNames = {"Alice", "Bob", "Carlos", "Dana", "Emeka", "Fatima", "Grace",  "Hiro",
                                         "Ines",  "Jonas", "Kiri", "Lena", "Mateo", "Nora",   "Omar",  "Priya"};
const std::vector<std::string> kWords = {"apple", "river", "purple", "window", "quiet", "rocket", "garden",
                                         "silver", "thunder", "pencil", "orange", "mountain", "lantern"};

}  // namespace

Conversation make_chat_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "chat", ctx.rng.chance(0.5), 0.4);
  std::string user, assistant;
  const uint64_t kind = ctx.rng.below(10);
  if (kind < 6) {
    const auto& list = fixed_exchanges(ctx.eval);
    const Exchange& e = list[ctx.rng.below(list.size())];
    user = e.user, assistant = e.assistant;
  } else if (kind < 8) {
    static const Phrasings q = {{"My name is {N}.", "I'm {N}.", "Hi, my name is {N}."}, {"Hello, I am called {N}."}};
    const std::string name = ctx.rng.pick(kNames);
    user = fill(pick(ctx, q), {{"N", name}});
    assistant = fill(ctx.rng.pick(std::vector<std::string>{"Nice to meet you, {N}! How can I help you?",
                                                           "Hello {N}! What can I do for you?"}),
                     {{"N", name}});
  } else {
    static const Phrasings q = {{"Repeat after me: {W}", "Say the word {W}.", "Please repeat this: {W}"},
                                {"Echo this back to me: {W}"}};
    std::string words = ctx.rng.pick(kWords);
    for (uint64_t n = ctx.rng.below(3); n > 0; --n) words += " " + ctx.rng.pick(kWords);
    user = fill(pick(ctx, q), {{"W", words}});
    assistant = words;
  }
  c.messages.push_back({{"role", "user"}, {"content", user}});
  c.messages.push_back({{"role", "assistant"}, {"content", assistant}});
  return c;
}

Conversation make_passkey_task(TaskContext& ctx) {
  static const Phrasings q = {{"What is the pass key?", "Tell me the pass key.",
                               "What was the pass key mentioned in the text?",
                               "What is the pass key? Answer with the number.", kPasskeyQuestion},
                              {"Which number is the pass key?"}};
  Conversation c = start_conversation(ctx, "passkey", false, 0.3);
  const TokenCounter count = [&ctx](const std::string& text) -> int64_t {
    if (ctx.tokenizer) return static_cast<int64_t>(ctx.tokenizer->encode(text, false).size());
    return static_cast<int64_t>((text.size() + 3) / 4);
  };
  PasskeyParams params;
  params.seed = ctx.rng.next();
  params.depth = ctx.rng.unit();
  const int64_t target = ctx.rng.range(ctx.passkey_min_tokens, ctx.passkey_max_tokens);
  PasskeyPrompt prompt = make_passkey_prompt_for_tokens(target, params, count);
  if (prompt.filler_sentences > 0 && count(prompt.context) > ctx.passkey_max_tokens) {
    // The sentence that reached the target overshot the range: one fewer (still >= the minimum unless the
    // range is narrower than a sentence).
    params.filler_sentences = prompt.filler_sentences - 1;
    PasskeyPrompt shorter = make_passkey_prompt(params);
    if (count(shorter.context) >= ctx.passkey_min_tokens) prompt = shorter;
  }
  const std::string question = pick(ctx, q);
  c.messages.push_back({{"role", "user"}, {"content", prompt.context + "\n\n" + question}});
  const std::string answer =
      question == kPasskeyQuestion
          ? prompt.answer + "."
          : fill(ctx.rng.pick(std::vector<std::string>{"The pass key is {k}.", "{k}", "The pass key is {k}."}),
                 {{"k", prompt.answer}});
  c.messages.push_back({{"role", "assistant"}, {"content", answer}});
  return c;
}

}  // namespace chorus::training::curriculum
