#pragma once
// Pulling the final answer out of a model's reasoning text: final_answer tags, \boxed{}, numbers, option letters.
#include <optional>
#include <string>

namespace chorus::agents {

// What kind of answer to look for.
enum class AnswerFormat { text, number, letter };

// Parses "text" | "number" | "letter"; throws std::invalid_argument naming the accepted values otherwise.
AnswerFormat parse_answer_format(const std::string& name);

// The answer in `text`, trying in order: the content of the last <final_answer>...</final_answer> (an unclosed
// last tag runs to the end), the last \boxed{...}, then by format: number → the last number (commas and a
// trailing ".0" dropped, "1,234.50" → "1234.5"), letter → the last standalone option letter A–J ("(B)",
// "answer is C", "B."); text → the last non-empty line. Whatever matched first is then normalized by format
// (number: the last number inside it; letter: its option letter). nullopt when nothing fits the format.
std::optional<std::string> extract_answer(const std::string& text, AnswerFormat format);

// Whether `answer` matches `expected` under `format`: numbers compare numerically (|a - b| <= 1e-6 * max(1,|b|)),
// letters case-insensitively, text after trimming, lower-casing and dropping a trailing period.
bool answers_match(const std::string& answer, const std::string& expected, AnswerFormat format);

}  // namespace chorus::agents
