// Helpers shared by the curriculum's task families.
#include "training/curriculum-tasks.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

namespace chorus::training::curriculum {

const std::string& pick(TaskContext& ctx, const Phrasings& phrasings) {
  const auto& list = ctx.eval && !phrasings.held_out.empty() ? phrasings.held_out : phrasings.train;
  return ctx.rng.pick(list);
}

const std::string& pick_operation(TaskContext& ctx, const Phrasings& phrasings) {
  if (ctx.known_words) return ctx.rng.pick(phrasings.train);
  return pick(ctx, phrasings);
}

std::string fill(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('{', i);
    if (open == std::string::npos) {
      out += text.substr(i);
      break;
    }
    const size_t close = text.find('}', open);
    if (close == std::string::npos) throw std::logic_error("curriculum phrasing with an unclosed '{': " + text);
    out += text.substr(i, open - i);
    const std::string name = text.substr(open + 1, close - open - 1);
    const auto it = vars.find(name);
    if (it == vars.end()) throw std::logic_error("curriculum phrasing uses {" + name + "}, not given: " + text);
    out += it->second;
    i = close + 1;
  }
  return out;
}

std::string capitalize(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

namespace {

// A capitalized sentence of 2-6 random vocabulary words, e.g. "Harbor violet seven lemon."
std::string random_sentence(TaskContext& ctx) {
  std::string out;
  for (int64_t n = ctx.rng.range(2, 6); n > 0; --n) {
    if (!out.empty()) out.push_back(' ');
    out.append(ctx.rng.pick(ctx.vocabulary_words));
  }
  out.push_back('.');
  return capitalize(out);
}

// A word that may sit beside an inserted one: letters only (trailing punctuation aside), not a month or its
// abbreviation, so that numbers, dates and expressions stay whole.
bool plain_word(std::string_view word) {
  while (!word.empty() && std::string_view(",.?!:;").find(word.back()) != std::string_view::npos)
    word.remove_suffix(1);
  if (word.empty()) return false;
  for (char ch : word)
    if (!std::isalpha(static_cast<unsigned char>(ch)) && ch != '\'') return false;
  const auto& months = month_names();
  return std::none_of(months.begin(), months.end(), [&](std::string_view month) {
    return word == month || word == month.substr(0, 3);  // "May", "Sep"
  });
}

// A random vocabulary word that names no operation, unit or direction of the tool tasks (so that the noise
// never changes what a question asks).
std::string noise_word(TaskContext& ctx) {
  static const std::vector<std::string_view> meaningful = {
      "plus",      "minus",      "times",    "divided",    "sum",      "product",   "difference", "quotient",
      "power",     "root",       "square",   "squared",    "cube",     "cubed",     "mod",        "modulo",
      "modulus",   "remainder",  "percent",  "average",    "mean",     "factorial", "add",        "added",
      "subtract",  "subtracted", "multiply", "multiplied", "divide",   "over",      "less",       "more",
      "increased", "decreased",  "take",     "away",       "lots",     "shared",    "among",      "exponent",
      "raised",    "left",       "leftover", "half",       "twice",    "double",    "triple",     "total",
      "day",       "days",       "week",     "weeks",      "weekday",  "weekdays",  "month",      "months",
      "year",      "years",      "date",     "dates",      "before",   "after",     "ago",        "from",
      "until",     "between",    "business", "working",    "workdays", "ISO",       "number",     "calendar",
      "forward",   "back",       "earlier",  "later",      "today",    "tomorrow",  "yesterday",  "not",
      "no",        "and",        "both",     "also",       "then",     "or",        "of",         "by",
      "to",        "in",         "on",       "since",      "next",     "last",      "first",      "second",
      "third"};
  const auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string& word = ctx.rng.pick(ctx.vocabulary_words);
    const bool named = std::any_of(meaningful.begin(), meaningful.end(), [&](std::string_view m) {
      return std::equal(word.begin(), word.end(), m.begin(), m.end(), same);
    });
    if (!named) return word;
  }
  return "well";  // a vocabulary of tool words only
}

}  // namespace

std::string insert_noise_words(TaskContext& ctx, const std::string& text, int count) {
  std::string out = text;
  for (int i = 0; i < count; ++i) {
    std::vector<size_t> gaps;  // spaces between two plain words
    size_t word_start = 0;
    for (size_t space = out.find(' '); space != std::string::npos;) {
      const size_t next = out.find(' ', space + 1);
      const size_t word_end = next == std::string::npos ? out.size() : next;
      const std::string_view left(out.data() + word_start, space - word_start);
      const std::string_view right(out.data() + space + 1, word_end - space - 1);
      if (plain_word(left) && plain_word(right)) gaps.push_back(space);
      word_start = space + 1;
      space = next;
    }
    if (gaps.empty()) break;
    const size_t at = gaps[ctx.rng.below(gaps.size())];
    out.insert(at + 1, noise_word(ctx) + " ");
  }
  return out;
}

std::string chatter(TaskContext& ctx, std::string question) {
  if (!ctx.eval && ctx.question_noise > 0 && ctx.rng.chance(ctx.question_noise))
    question = insert_noise_words(ctx, question, static_cast<int>(ctx.rng.range(1, 2)));
  if (ctx.eval || !ctx.rng.chance(0.4)) return question;
  static const std::vector<std::string> leads = {
      "Hi!", "Hello.", "Hey.", "Hi there.", "Good morning!", "Good evening.", "Okay.", "OK, next one.",
      "Another one.", "One more.", "Next:", "Help me with this.", "I'm doing my homework.", "I'm checking a bill.",
      "My friend asked me this.", "Sorry to bother you.", "Thanks for the last answer.", "Here goes.", "Hmm.",
      "Let me ask something.", "I was wondering.", "This is for work.", "Simple one.", "A small task:", "Math time."};
  static const std::vector<std::string> tails = {
      "Thanks!", "Thank you.", "Thanks a lot.", "Cheers.", "I appreciate it.", "No rush.", "It's for a report.",
      "Just the number is fine.", "Short answer, please.", "I want to double-check."};
  const uint64_t where = ctx.rng.below(3);  // 0: before, 1: after, 2: both
  if (where != 1) {
    std::string lead = ctx.rng.chance(0.25) ? random_sentence(ctx) : ctx.rng.pick(leads);
    question = lead.append(" ").append(question);
  }
  if (where != 0) {
    std::string tail = ctx.rng.chance(0.25) ? random_sentence(ctx) : ctx.rng.pick(tails);
    question.append(" ").append(tail);
  }
  return question;
}

std::string scaled_text(int64_t value, int decimals) {
  if (decimals <= 0) return std::to_string(value);
  const bool negative = value < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, static_cast<size_t>(decimals) - fraction.size(), '0');
  std::string out = negative ? std::string("-") : std::string();
  out += std::to_string(magnitude / scale);
  out += ".";
  out += fraction;
  return out;
}

namespace {

const std::vector<std::string> kSystemPrompts = {
    "You are a helpful assistant.",
    "You are Chorus, a helpful assistant.",
    "You are Chorus, a small assistant. Use the tools for arithmetic and dates, then answer briefly.",
    "You are an agent in a team of agents. Answer the user's question accurately and briefly.",
    "You are a careful assistant. Never guess a calculation or a date: use a tool.",
    "Answer concisely.",
};

}  // namespace

Conversation start_conversation(TaskContext& ctx, const std::string& task, bool with_tools, double p_system) {
  Conversation c;
  c.task = task;
  if (ctx.rng.chance(p_system))
    c.messages.push_back({{"role", "system"}, {"content", ctx.rng.pick(kSystemPrompts)}});
  if (with_tools) {
    c.tools = ctx.tools;
    if (c.tools.size() > 1 && ctx.rng.chance(0.5)) {  // the order of the list must not matter
      for (size_t i = c.tools.size() - 1; i > 0; --i) std::swap(c.tools[i], c.tools[ctx.rng.below(i + 1)]);
    }
  }
  return c;
}

ojson tool_call(const std::string& name, const ojson& arguments) {
  return {{"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
}

nlohmann::json call_tool(TaskContext& ctx, const std::string& name, const ojson& arguments) {
  return ctx.call(name, nlohmann::json::parse(arguments.dump()));
}

void add_tool_message(Conversation& c, const nlohmann::json& result) {
  c.messages.push_back({{"role", "tool"}, {"content", result.dump()}});
}

std::string result_text(const nlohmann::json& result, const std::string& field, const std::string& tool) {
  if (!result.is_object() || !result.contains(field))
    throw CurriculumError("the " + tool + " tool's result has no '" + field + "': " + result.dump());
  const auto& v = result[field];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace chorus::training::curriculum
