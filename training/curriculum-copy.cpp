// The "copy" task: the user gives random strings (digit groups, words, dates, codes) and the assistant repeats
// them, or recalls the one asked for among several. Nothing in the answer can be guessed from the question's
// wording, only read from it, so this is the task that teaches the model to copy (induction), which the tool
// tasks (numbers into tool arguments, tool results into answers) and passkeys (a number read back from far away)
// build on. Without it a small model learns the format of every turn but invents the numbers (docs/curriculum.md).
#include "training/curriculum-tasks.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace chorus::training::curriculum {
namespace {

const std::vector<std::string> kCopyWords = {
    "apple",  "river",  "purple", "window", "quiet",  "rocket",  "garden", "silver", "thunder", "pencil",
    "orange", "mountain", "lantern", "blue", "green", "red",     "yellow", "castle", "forest",  "ocean",
    "tiger",  "falcon", "copper", "marble", "violet", "harbor",  "meadow", "cactus", "planet",  "winter",
    "summer", "bridge", "candle", "dragon", "ember",  "feather", "glacier", "island", "jungle",  "kettle",
    "lemon",  "mirror", "nickel", "oyster", "pepper", "quartz",  "raven",  "saddle", "tunnel",  "velvet"};
const std::vector<std::string> kCopyLabels = {"red",   "blue",  "green", "gold",  "north", "south", "alpha",
                                              "beta",  "gamma", "delta", "room",  "door",  "box",   "gate",
                                              "train", "table", "shelf", "line",  "team",  "task"};

std::string digits(TaskContext& ctx, int64_t min_len, int64_t max_len) {
  const int64_t n = ctx.rng.range(min_len, max_len);
  std::string s;
  for (int64_t i = 0; i < n; ++i) s += static_cast<char>('0' + ctx.rng.below(10));
  if (s.size() > 1 && s[0] == '0') s[0] = static_cast<char>('1' + ctx.rng.below(9));
  return s;
}

// One item to copy: a number, a word, a date, a letter/digit code or a signed decimal.
std::string copy_item(TaskContext& ctx) {
  switch (ctx.rng.below(8)) {
    case 0:
    case 1:
    case 2:
      return digits(ctx, 1, 8);
    case 3:
    case 4:
      return ctx.rng.pick(kCopyWords);
    case 5: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(ctx.rng.range(1900, 2099)),
                    static_cast<int>(ctx.rng.range(1, 12)), static_cast<int>(ctx.rng.range(1, 28)));
      return buf;
    }
    case 6: {
      std::string code;
      for (int64_t i = ctx.rng.range(3, 6); i > 0; --i)
        code += ctx.rng.chance(0.5) ? static_cast<char>('A' + ctx.rng.below(26)) : static_cast<char>('0' + ctx.rng.below(10));
      return code;
    }
    default:
    {
      std::string number = ctx.rng.chance(0.3) ? "-" : "";
      number.append(digits(ctx, 1, 5)).append(".").append(digits(ctx, 1, 3));
      return number;
    }
  }
}

std::string random_words(TaskContext& ctx, int64_t min_words, int64_t max_words) {
  const auto& words = ctx.vocabulary_words;
  std::string out;
  for (int64_t n = ctx.rng.range(min_words, max_words); n > 0; --n) {
    if (!out.empty()) out += " ";
    out += ctx.rng.pick(words);
  }
  return out;
}

std::string join_items(TaskContext& ctx, int64_t min_items, int64_t max_items) {
  std::string out;
  for (int64_t n = ctx.rng.range(min_items, max_items); n > 0; --n) {
    if (!out.empty()) out += " ";
    out += copy_item(ctx);
  }
  return out;
}

// One token of the induction tasks' narrow alphabets: a longest digit group, or one of the 256 most frequent
// (lowest-id) whole-word tokens (a small alphabet forms the copying circuit sooner).
std::string narrow_token(TaskContext& ctx, bool numbers) {
  if (numbers) return ctx.rng.pick(ctx.digit_groups);
  return ctx.vocabulary_words[ctx.rng.below(std::min<size_t>(ctx.vocabulary_words.size(), 256))];
}

// One item of the mixed induction tasks: any whole-word token of the vocabulary (30%) or a copy_item.
std::string mixed_item(TaskContext& ctx) {
  return ctx.rng.chance(0.3) ? ctx.rng.pick(ctx.vocabulary_words) : copy_item(ctx);
}

}  // namespace

// The line the plain documents put between <|endoftext|> and their content: 0-200 (preamble_max_words) random
// whole-word tokens from outside the narrow alphabet and a newline (nothing when 0), so the content starts anywhere
// in the first ~200 positions, among that many unrelated keys. Without it the content always starts right after
// <|endoftext|>, and what a model learns there stops copying once the string is ~100 tokens further in (run 8,
// docs/curriculum.md): it never copied in chat, where a question sits 200+ tokens in, after the tool list.
std::string preamble(TaskContext& ctx) {
  if (ctx.preamble_max_words == 0) return {};  // no draw either: the documents of earlier runs, byte for byte
  const auto& words = ctx.vocabulary_words;
  const size_t from = words.size() >= 256 + 64 ? 256 : 0;
  std::string out;
  for (int64_t n = ctx.rng.range(0, ctx.preamble_max_words); n > 0; --n)
    out.append(out.empty() ? "" : " ").append(words[from + ctx.rng.below(words.size() - from)]);
  return out.empty() ? out : out + "\n";
}

// The tokenizer's whole-word tokens (a space and 2+ ASCII letters, e.g. "Ġriver"), as words without the space:
// strings of them are nearly one token per word, drawn from the whole vocabulary, so nothing but copying predicts
// them (induction is learned from such high-entropy strings far sooner than from digits, which repeat). Without
// a tokenizer (text-only output), the fixed word list.
std::vector<std::string> vocabulary_words(const inference::Tokenizer* tokenizer) {
  std::vector<std::string> words;
  if (tokenizer) {
    for (int32_t id = 0; id < tokenizer->id_end(); ++id) {
      if (tokenizer->is_special(id)) continue;
      const std::string bytes = tokenizer->token_bytes(id, false);
      if (bytes.size() < 3 || bytes[0] != ' ') continue;
      const bool letters = std::all_of(bytes.begin() + 1, bytes.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
      });
      if (letters) words.push_back(bytes.substr(1));
    }
  }
  if (words.size() < 20) words = kCopyWords;
  return words;
}

std::vector<std::string> digit_groups(const inference::Tokenizer* tokenizer) {
  std::vector<std::string> groups;
  if (tokenizer) {
    size_t longest = 0;
    for (int32_t id = 0; id < tokenizer->id_end(); ++id) {
      if (tokenizer->is_special(id)) continue;
      const std::string bytes = tokenizer->token_bytes(id, false);
      if (bytes.empty() || !std::all_of(bytes.begin(), bytes.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        continue;
      // Only tokens the tokenizer makes of the digits alone (a vocabulary may hold groups its regex never forms).
      if (bytes.size() >= longest && tokenizer->encode(bytes, false) != std::vector<int32_t>{id}) continue;
      if (bytes.size() > longest) groups.clear(), longest = bytes.size();
      if (bytes.size() == longest) groups.push_back(bytes);
    }
    std::sort(groups.begin(), groups.end());
  }
  if (groups.empty()) {
    char buf[4];
    for (int i = 0; i < 1000; ++i) {
      std::snprintf(buf, sizeof buf, "%03d", i);
      groups.push_back(buf);
    }
  }
  return groups;
}

Conversation make_copy_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "copy", ctx.rng.chance(0.1), 0.3);
  std::string user, assistant;
  const uint64_t kind = ctx.rng.below(10);
  if (kind < 6) {  // repeat a random string: words of the vocabulary, or numbers, dates and codes
    static const Phrasings q = {{"Repeat after me: {X}", "Please repeat this: {X}", "Copy this exactly: {X}",
                                 "Say this back to me: {X}", "Repeat: {X}", "{X}\n\nRepeat the line above."},
                                {"Echo this back to me: {X}", "Write this again, unchanged: {X}"}};
    const std::string x = kind < 3 ? random_words(ctx, 4, 24) : join_items(ctx, 1, 10);
    user = fill(pick(ctx, q), {{"X", x}});
    assistant = x;
  } else if (kind < 9) {  // recall one of several labelled values
    const int64_t n = ctx.rng.range(2, 8);
    std::vector<std::string> labels;
    std::vector<std::string> values;
    while (static_cast<int64_t>(labels.size()) < n) {
      const std::string& l = ctx.rng.pick(kCopyLabels);
      if (std::find(labels.begin(), labels.end(), l) != labels.end()) continue;
      labels.push_back(l);
      values.push_back(ctx.rng.chance(0.7) ? digits(ctx, 2, 7) : copy_item(ctx));
    }
    static const Phrasings intro = {{"Here are some codes:", "Remember these values:", "Note the following:", ""},
                                    {"Keep these in mind:"}};
    std::string list = pick(ctx, intro);
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!list.empty()) list += i == 0 && ctx.rng.chance(0.5) ? "\n" : " ";
      list.append("The code for ").append(labels[i]).append(" is ").append(values[i]).append(".");
    }
    const size_t asked = ctx.rng.below(labels.size());
    static const Phrasings q = {{"What is the code for {L}?", "Which code does {L} have?", "Tell me the code for {L}."},
                                {"What was the code for {L}?"}};
    user = list + "\n\n" + fill(pick(ctx, q), {{"L", labels[asked]}});
    assistant = values[asked];
    if (ctx.rng.chance(0.5)) assistant = std::string("The code for ").append(labels[asked]).append(" is ").append(values[asked]).append(".");
  } else {  // a number said once, asked back
    static const Phrasings q = {{"My number is {X}. What is my number?", "Remember {X}. What did I ask you to remember?",
                                 "The answer is {X}. What is the answer?"},
                                {"My ticket number is {X}. What is my ticket number?"}};
    const std::string x = digits(ctx, 1, 9);
    user = fill(pick(ctx, q), {{"X", x}});
    assistant = x;
  }
  c.messages.push_back({{"role", "user"}, {"content", user}});
  c.messages.push_back({{"role", "assistant"}, {"content", assistant}});
  return c;
}

Conversation make_repeat_task(TaskContext& ctx) {
  Conversation c = start_conversation(ctx, "repeat", false, 0.0);
  static const Phrasings q = {{"Repeat after me: {X}", "Copy this exactly: {X}", "Repeat: {X}"},
                              {"Echo this back to me: {X}"}};
  const std::string x = random_words(ctx, 8, 32);
  c.messages.push_back({{"role", "user"}, {"content", fill(pick(ctx, q), {{"X", x}})}});
  c.messages.push_back({{"role", "assistant"}, {"content", x}});
  return c;
}

// "<|endoftext|>X\n\nX", the loss on the second X. Not `mixed` (task "induction"): X is, equally often, 8-32 random
// words of the 256 most frequent whole-word tokens joined by spaces, or 8-32 random longest digit groups written
// without separators (so the tokenizer cuts them back into the same groups): every target is one random token of a
// small alphabet, which is what induction heads form from soonest. `mixed` (task "induction_mixed"): X is 6-20
// items (numbers, dates, codes, decimals, any whole-word token of the vocabulary) joined by spaces, the strings tool
// arguments and answers are made of; a circuit formed on the narrow kinds alone does not copy them.
// No chat template: plain copying forms in a few hundred steps, where the same strings inside chat turns take
// thousands (docs/curriculum.md).
Conversation make_induction_task(TaskContext& ctx, bool mixed) {
  Conversation c;
  c.task = mixed ? "induction_mixed" : "induction";
  std::string x;
  if (mixed) {
    for (int64_t n = ctx.rng.range(6, 20); n > 0; --n) x += (x.empty() ? "" : " ") + mixed_item(ctx);
  } else {
    const bool numbers = ctx.rng.chance(0.5);
    for (int64_t n = ctx.rng.range(8, 32); n > 0; --n) x += (numbers || x.empty() ? "" : " ") + narrow_token(ctx, numbers);
  }
  c.document = {{"<|endoftext|>" + preamble(ctx) + x + "\n\n", false}, {x, true}};
  return c;
}

// "<|endoftext|>X\n\n" and then 3-8 lines, each a span of X from a random place: its first piece is given, the next
// ones are the target. A span starts anywhere, so only a head that finds the given piece in X and copies what follows
// it predicts the target; the second copy of "induction" always sits at the same distance from the first, which a
// head can copy by position alone (run 5). Not `mixed` (task "induction_spans"): X is 8-24 random tokens of the
// narrow "induction" alphabets (the 256 most frequent whole-word tokens, each with its space, or digit groups
// without separators), spans of 2-6 tokens after the given one; documents are short because the circuit forms
// sooner in short documents (run 5). `mixed` (task "induction_spans_mixed"): X is 8-16 items (numbers, dates, codes,
// decimals, any whole-word token), each after a space, spans of 1-4 items after the given one.
Conversation make_span_induction_task(TaskContext& ctx, bool mixed) {
  Conversation c;
  c.task = mixed ? "induction_spans_mixed" : "induction_spans";
  std::vector<std::string> x;
  int64_t min_length = 2, max_length = 6;
  if (mixed) {
    for (int64_t n = ctx.rng.range(8, 16); n > 0; --n) x.push_back(" " + mixed_item(ctx));
    min_length = 1, max_length = 4;
  } else {
    const bool numbers = ctx.rng.chance(0.5);
    for (int64_t n = ctx.rng.range(8, 24); n > 0; --n) x.push_back((numbers ? "" : " ") + narrow_token(ctx, numbers));
  }
  std::string text = "<|endoftext|>" + preamble(ctx);
  for (const std::string& piece : x) text += piece;
  text += "\n";
  for (int64_t spans = ctx.rng.range(3, 8); spans > 0; --spans) {
    const size_t length = static_cast<size_t>(ctx.rng.range(min_length, max_length));
    const size_t start = ctx.rng.below(x.size() - length);
    text += "\n" + x[start];
    c.document.push_back({text, false});
    std::string target;
    for (size_t k = start + 1; k <= start + length; ++k) target += x[k];
    c.document.push_back({target, true});
    text.clear();
  }
  return c;
}

// "<|endoftext|>code river: 20417\ncode velvet: 1952-06-22\n...", sometimes a paragraph of random words, then 1-6
// questions "code velvet:" or "The code for velvet is", each followed by its value (the target, with the line's
// end). The keys are distinct whole-word tokens of the vocabulary; the values are numbers (70%) or mixed items.
// Recall by label: what a passkey question asks, and what an answer stating a tool's result does.
Conversation make_recall_task(TaskContext& ctx) {
  Conversation c;
  c.task = "recall";
  const int64_t n = ctx.rng.range(2, 16);
  std::vector<std::string> keys, values;
  while (static_cast<int64_t>(keys.size()) < n) {
    const std::string& key = ctx.rng.pick(ctx.vocabulary_words);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(key);
    values.push_back(ctx.rng.chance(0.7) ? digits(ctx, 2, 8) : copy_item(ctx));
  }
  std::string text = "<|endoftext|>";
  text += preamble(ctx);
  for (int64_t i = 0; i < n; ++i) text.append("code ").append(keys[i]).append(": ").append(values[i]).append("\n");
  if (ctx.rng.chance(0.5)) text.append(random_words(ctx, 20, 200)).append("\n");
  text += "\n";
  for (int64_t q = ctx.rng.range(1, 6); q > 0; --q) {
    const size_t k = ctx.rng.below(keys.size());
    const bool sentence = ctx.rng.chance(0.5);
    text += sentence ? "The code for " + keys[k] + " is" : "code " + keys[k] + ":";
    c.document.push_back({text, false});
    c.document.push_back({" " + values[k] + (sentence ? ".\n" : "\n"), true});
    text.clear();
  }
  return c;
}

}  // namespace chorus::training::curriculum
