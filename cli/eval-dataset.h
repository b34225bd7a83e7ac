#pragma once
// The question sets `chorus eval` reads: MMLU CSV, GSM8K JSONL and generic JSONL, and the prompt text of a question.
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::cli {

enum class DatasetFormat { mmlu, gsm8k, jsonl };

// Parses "mmlu" | "gsm8k" | "jsonl"; throws std::invalid_argument naming the accepted values otherwise.
DatasetFormat parse_dataset_format(const std::string& name);
// The format's name ("mmlu", ...).
std::string to_string(DatasetFormat format);

// One question of a dataset.
struct EvalQuestion {
  int line = 0;                      // 1-based line of the dataset it starts on
  std::string question;              // the question text as written
  std::vector<std::string> choices;  // options A, B, ... (empty: open question)
  std::string expected;              // gold answer: a letter (mmlu), a number (gsm8k), or text
};

// A dataset line that cannot be read: what() is "FILE:LINE: what is wrong; the fix".
class DatasetError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Every question of `text` (the content of `file_name`) in `format`:
//   mmlu   CSV records question,choice,choice,...,answer (usually A,B,C,D) with the answer a letter; a first
//          record whose last field is "answer" is a header and skipped.
//   gsm8k  JSONL {"question", "answer"} with the gold answer after the last "####" (commas dropped).
//   jsonl  JSONL {"question", "answer", "choices"?: [...]} (a number answer is taken as its text).
// Blank lines and a leading UTF-8 byte order mark are skipped. Throws DatasetError for the first bad line.
std::vector<EvalQuestion> parse_dataset(const std::string& text, const std::string& file_name, DatasetFormat format);

// Reads `path` and parses it; an unreadable file is a DatasetError naming it.
std::vector<EvalQuestion> read_dataset(const std::string& path, DatasetFormat format);

// The options as lines "A) ...", "B) ...".
std::string choice_lines(const std::vector<std::string>& choices);

// What a workflow is asked: the question, then its options as lines (if any), then, with `ask_for_letter`,
// the instruction to answer with the option's letter.
std::string question_prompt(const EvalQuestion& question, bool ask_for_letter);

}  // namespace chorus::cli
