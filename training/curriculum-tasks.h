#pragma once
// Internal to the curriculum: one function per task family (curriculum-calculator.cpp, curriculum-calendar.cpp,
// curriculum-chat.cpp, curriculum-copy.cpp, curriculum-session.cpp, curriculum-arguments.cpp) and the helpers they share (curriculum-tasks.cpp).
#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "training/curriculum-random.h"
#include "training/curriculum.h"

namespace chorus::training::curriculum {

using ojson = nlohmann::ordered_json;

// What a task function draws from and calls.
struct TaskContext {
  CurriculumRng& rng;
  bool eval = false;                   // held-out phrasings and ranges
  bool known_words = false;            // eval: operations are named with the train split's words (pick_operation)
  const ToolCaller& call;              // the tools
  const ojson& tools;                  // the tools offered (OpenAI format)
  int64_t passkey_min_tokens = 256;
  int64_t passkey_max_tokens = 2048;
  const inference::Tokenizer* tokenizer = nullptr;  // null: 4 bytes per token
  const std::vector<std::string>& vocabulary_words;  // vocabulary_words(tokenizer), computed once per generator
  const std::vector<std::string>& digit_groups;      // digit_groups(tokenizer), computed once per generator
  int64_t preamble_max_words = 200;                   // CurriculumOptions::preamble_max_words
  const inference::ChatTemplate* chat_template = nullptr;  // renders tool calls as the chat does
  double question_noise = 0;                               // CurriculumOptions::question_noise
};

// The tokenizer's whole-word tokens as words (e.g. "river" for "Ġriver"); a fixed list without a tokenizer.
std::vector<std::string> vocabulary_words(const inference::Tokenizer* tokenizer);

// The tokenizer's longest all-digit tokens that it makes of those digits alone (e.g. "582" with Llama-3-style digit
// groups, "7" with one digit per token); "000".."999" without a tokenizer.
std::vector<std::string> digit_groups(const inference::Tokenizer* tokenizer);

// Phrasings: `train` ones are used in the train split only, `held_out` ones in the eval split only.
struct Phrasings {
  std::vector<std::string> train;
  std::vector<std::string> held_out;
};
const std::string& pick(TaskContext& ctx, const Phrasings& phrasings);
// The same for phrasings whose words name the operation ("{a} less {b}", "workdays"): the train forms when
// ctx.known_words, so that only the sentence around them is new.
const std::string& pick_operation(TaskContext& ctx, const Phrasings& phrasings);

// Replaces each {name} in `text` by vars.at(name); throws std::logic_error for a missing variable.
std::string fill(const std::string& text, const std::map<std::string, std::string>& vars);

// Upper-cases the first byte when it is an ASCII letter.
std::string capitalize(std::string text);

// The train split's chatter around a user's question: with probability 0.4, a lead-in before it and/or a
// remark after it (greetings, context, thanks, or a few random words), from lists that share no phrase with
// the held-out phrasings, so that a question's numbers and dates are found whatever words surround them;
// before that, with probability ctx.question_noise, random words put inside it (insert_noise_words). The eval
// split returns `question` unchanged and draws nothing.
std::string chatter(TaskContext& ctx, std::string question);

// `text` with `count` random vocabulary words each put at a random gap between two plain words (letters only,
// not a month name or its abbreviation); unchanged when it has no such gap.
std::string insert_noise_words(TaskContext& ctx, const std::string& text, int count);

// Integer / fixed-point text: scaled_text(-1234, 2) = "-12.34".
std::string scaled_text(int64_t value, int decimals);

// The line a plain document puts after <|endoftext|>: 0..preamble_max_words random words from outside the 256 most
// frequent and a newline, or nothing (curriculum-copy.cpp).
std::string preamble(TaskContext& ctx);

// Starts a conversation: maybe a system message (probability `p_system`), and the tools when `with_tools`.
Conversation start_conversation(TaskContext& ctx, const std::string& task, bool with_tools, double p_system);

// {"type": "function", "function": {"name": ..., "arguments": {...}}}.
ojson tool_call(const std::string& name, const ojson& arguments);

// Calls the tool, appends nothing; returns its result (the tool message content is result.dump()).
nlohmann::json call_tool(TaskContext& ctx, const std::string& name, const ojson& arguments);

// Appends {"role": "tool", "content": result.dump()} (the tool message the model reads).
void add_tool_message(Conversation& c, const nlohmann::json& result);

// A string field of a tool result (numbers are written as JSON); throws CurriculumError naming it when missing.
std::string result_text(const nlohmann::json& result, const std::string& field, const std::string& tool);

// A calculator question (for the multi task): the user-facing phrase of an expression, the expression the tool
// gets, and a pretty form for the answer ("37 × 12").
struct Arithmetic {
  std::string phrase;      // "37 times 12"
  std::string expression;  // "37 * 12"
  std::string pretty;      // "37 × 12"
};
Arithmetic draw_arithmetic(TaskContext& ctx);

// A calendar date drawn for a question: ISO for the tool, and the way the user wrote it.
struct DrawnDate {
  int year = 2000, month = 1, day = 1;
  std::string iso;      // "2021-03-14"
  std::string written;  // "March 14, 2021" or the ISO text
};
DrawnDate draw_date(TaskContext& ctx);
// "January" .. "December".
const std::array<std::string_view, 12>& month_names();

Conversation make_calculator_task(TaskContext& ctx);
Conversation make_calendar_task(TaskContext& ctx);
Conversation make_multi_task(TaskContext& ctx);
Conversation make_chat_task(TaskContext& ctx);
Conversation make_passkey_task(TaskContext& ctx);
Conversation make_copy_task(TaskContext& ctx);
Conversation make_repeat_task(TaskContext& ctx);
// Plain documents "<|endoftext|>X\n\nX"; `mixed`: X is mixed items instead of one-token words or digit groups.
Conversation make_induction_task(TaskContext& ctx, bool mixed);
// Plain documents: random tokens X, then spans of X from random places (the first piece given, the rest the target);
// `mixed`: X is mixed items instead of one-token words or digit groups.
Conversation make_span_induction_task(TaskContext& ctx, bool mixed);
// Plain documents: labelled values "code KEY: VALUE", then questions by label, the values as targets.
Conversation make_recall_task(TaskContext& ctx);
// 2-4 calculator, calendar, multi or copy questions in one conversation under one tool list.
Conversation make_session_task(TaskContext& ctx);
// Plain documents: 4-8 calculator or calendar questions, each followed by "<tool_call>\n" and the call's JSON (the
// target), so that finding a question's numbers and dates for its arguments is trained many times per document.
Conversation make_arguments_task(TaskContext& ctx);

}  // namespace chorus::training::curriculum
