#include "agents/answer-extract.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <vector>

namespace chorus::agents {
namespace {

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// The content of the last <final_answer> tag (an unclosed one runs to the end); nullopt when none has any.
std::optional<std::string> last_final_answer(const std::string& text) {
  const std::string lowered = lower(text);
  const std::string open = "<final_answer>", close = "</final_answer>";
  const auto start = lowered.rfind(open);
  if (start == std::string::npos) return std::nullopt;
  const auto body = start + open.size();
  const auto end = lowered.find(close, body);
  std::string content = trim(text.substr(body, end == std::string::npos ? std::string::npos : end - body));
  if (content.empty()) return std::nullopt;
  return content;
}

// The content of the last \boxed{...} (braces balanced); nullopt when none is complete and non-empty.
std::optional<std::string> last_boxed(const std::string& text) {
  const std::string open = "\\boxed{";
  for (auto start = text.rfind(open); start != std::string::npos;
       start = start == 0 ? std::string::npos : text.rfind(open, start - 1)) {
    int depth = 1;
    const auto body = start + open.size();
    for (auto i = body; i < text.size(); ++i) {
      if (text[i] == '{') ++depth;
      if (text[i] == '}' && --depth == 0) {
        std::string content = trim(text.substr(body, i - body));
        if (!content.empty()) return content;
        break;
      }
    }
  }
  return std::nullopt;
}

// A number as written ("1,234.50", "-7.0") in canonical form ("1234.5", "-7").
std::string canonical_number(std::string digits) {
  digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (digits.find('.') != std::string::npos) {
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    if (!digits.empty() && digits.back() == '.') digits.pop_back();
  }
  if (!digits.empty() && digits[0] == '.') {
    std::string with_zero(1, '0');
    digits = with_zero.append(digits);
  }
  const auto nonzero = digits.find_first_not_of('0');
  if (nonzero == std::string::npos) return "0";
  if (digits[nonzero] == '.')
    digits.erase(0, nonzero - 1);  // keep one zero before the point
  else
    digits.erase(0, nonzero);
  std::string out = negative ? "-" : "";
  return out.append(digits);
}

// The last number in `text`, canonical: thousands separators allowed ("1,234"); digits glued to a word ("x2")
// are not a number, and a minus glued to a word or digit is a hyphen ("3-4" ends with 4, not -4).
std::optional<std::string> last_number(const std::string& text) {
  static const std::regex number(R"(-?(?:\d{1,3}(?:,\d{3}(?!\d))+|\d+)(?:\.\d+)?|-?\.\d+)");
  std::optional<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it) {
    std::string match = it->str();
    const auto pos = static_cast<size_t>(it->position());
    if (pos > 0 && is_word_char(text[pos - 1]) && match[0] != '-') continue;  // inside a word: "x2", "a1b"
    if (match[0] == '-' && pos > 0 && is_word_char(text[pos - 1])) match.erase(0, 1);  // "3-4": a hyphen
    found = canonical_number(match);
  }
  return found;
}

// The option letter of a short answer that is just a letter: "C", "c", "(C)", "C.", "C)".
std::optional<std::string> bare_letter(const std::string& text) {
  static const std::regex bare(R"(^\(?([A-Ja-j])[\).:]?$)");
  std::smatch m;
  const std::string t = trim(text);
  if (!std::regex_match(t, m, bare)) return std::nullopt;
  return std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(m[1].str()[0]))));
}

// The last option letter in `text`: "(C)" and "answer is C" / "answer: C" first; otherwise the last capital
// A-J standing alone ("B." or "B" between spaces), skipping the words "A" and "I" when a lower-case word
// follows.
std::optional<std::string> last_letter(const std::string& text) {
  if (auto letter = bare_letter(text)) return letter;
  static const std::regex strong(R"(\(([A-J])\)|answer(?:\s+is)?\s*[:=]?\s*\(?([A-J])\b)", std::regex::icase);
  std::optional<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), strong); it != std::sregex_iterator(); ++it) {
    const char letter = ((*it)[1].matched ? (*it)[1] : (*it)[2]).str()[0];
    // Lower case only right after "answer" and at the end of a phrase: "Answer: b." yes, "answer is a cat"
    // no.
    const auto after = static_cast<size_t>(it->position() + it->length());
    const bool phrase_end =
        after >= text.size() || std::string(").,;\n").find(text[after]) != std::string::npos;
    if (std::isupper(static_cast<unsigned char>(letter)) || ((*it)[2].matched && phrase_end))
      found = std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(letter))));
  }
  if (found) return found;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c < 'A' || c > 'J') continue;
    if (i > 0 && is_word_char(text[i - 1])) continue;
    if (i + 1 < text.size() && is_word_char(text[i + 1])) continue;
    if ((c == 'A' || c == 'I') && i + 2 < text.size() && text[i + 1] == ' ' &&
        std::islower(static_cast<unsigned char>(text[i + 2])))
      continue;  // the article "A" or the pronoun "I"
    found = std::string(1, c);
  }
  return found;
}

// The last non-empty line, without an "Answer:" / "Final answer:" lead.
std::optional<std::string> last_line(const std::string& text) {
  std::string line;
  size_t end = text.size();
  while (end > 0) {
    const auto start = text.rfind('\n', end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    line = trim(text.substr(from, end - from));
    if (!line.empty()) break;
    if (start == std::string::npos) break;
    end = start;
  }
  if (line.empty()) return std::nullopt;
  for (const std::string lead : {"final answer:", "answer:"})
    if (lower(line).rfind(lead, 0) == 0) line = trim(line.substr(lead.size()));
  if (line.empty()) return std::nullopt;
  return line;
}

// `candidate` reduced to what `format` asks for.
std::optional<std::string> normalize(const std::string& candidate, AnswerFormat format) {
  switch (format) {
    case AnswerFormat::number:
      return last_number(candidate);
    case AnswerFormat::letter:
      return last_letter(candidate);
    case AnswerFormat::text:
      break;
  }
  std::string t = trim(candidate);
  if (t.empty()) return std::nullopt;
  return t;
}

// Text compared as text: trimmed, lower case, no trailing period.
std::string comparable_text(const std::string& text) {
  std::string t = lower(trim(text));
  while (!t.empty() && t.back() == '.') t.pop_back();
  return trim(t);
}

}  // namespace

AnswerFormat parse_answer_format(const std::string& name) {
  if (name == "text") return AnswerFormat::text;
  if (name == "number") return AnswerFormat::number;
  if (name == "letter") return AnswerFormat::letter;
  throw std::invalid_argument("answer_format '" + name + "' is not one of text, number, letter");
}

std::optional<std::string> extract_answer(const std::string& text, AnswerFormat format) {
  if (auto tagged = last_final_answer(text)) return normalize(*tagged, format);
  if (auto boxed = last_boxed(text)) return normalize(*boxed, format);
  switch (format) {
    case AnswerFormat::number:
      return last_number(text);
    case AnswerFormat::letter:
      return last_letter(text);
    case AnswerFormat::text:
      return last_line(text);
  }
  return std::nullopt;
}

bool answers_match(const std::string& answer, const std::string& expected, AnswerFormat format) {
  switch (format) {
    case AnswerFormat::number: {
      auto a = last_number(answer), b = last_number(expected);
      if (!a || !b) return false;
      const double x = std::strtod(a->c_str(), nullptr), y = std::strtod(b->c_str(), nullptr);
      return std::fabs(x - y) <= 1e-6 * std::max(1.0, std::fabs(y));
    }
    case AnswerFormat::letter: {
      auto a = last_letter(answer), b = last_letter(expected);
      return a && b && *a == *b;
    }
    case AnswerFormat::text:
      break;
  }
  return comparable_text(answer) == comparable_text(expected);
}

}  // namespace chorus::agents
