#include "cli/eval-dataset.h"

#include "cli/csv-records.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

namespace chorus::cli {
namespace {

using nlohmann::json;

std::string trim(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

[[noreturn]] void fail(const std::string& file, int line, const std::string& why) {
  throw DatasetError(file + ":" + std::to_string(line) + ": " + why);
}

char option_letter(size_t index) { return static_cast<char>('A' + index); }

std::vector<EvalQuestion> parse_mmlu(const std::string& text, const std::string& file) {
  std::vector<CsvRecord> records;
  try {
    records = parse_csv(text);
  } catch (const CsvError& e) {
    fail(file, e.line(), e.what());
  }
  std::vector<EvalQuestion> out;
  for (size_t r = 0; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    if (record.fields.size() == 1 && trim(record.fields[0]).empty()) continue;
    if (out.empty() && lower(trim(record.fields.back())) == "answer") continue;  // the header
    const size_t n = record.fields.size();
    if (n < 3 || n > 12)
      fail(file, record.line,
           "expected question,A,B,C,D,answer (a question, 2 to 10 options and the answer letter), got " +
               std::to_string(n) + (n == 1 ? " field" : " fields") +
               "; quote a field that contains a comma (\"like, this\")");
    EvalQuestion q;
    q.line = record.line;
    q.question = trim(record.fields[0]);
    for (size_t i = 1; i + 1 < n; ++i) q.choices.push_back(trim(record.fields[i]));
    const std::string answer = trim(record.fields[n - 1]);
    const std::string last = std::string("A-") + option_letter(q.choices.size() - 1);
    if (answer.size() != 1 || !std::isalpha(static_cast<unsigned char>(answer[0])))
      fail(file, record.line, "the answer '" + answer + "' is not an option letter; the last field must be one of " +
                                  last);
    const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(answer[0])));
    if (letter < 'A' || static_cast<size_t>(letter - 'A') >= q.choices.size())
      fail(file, record.line, "the answer '" + answer + "' is not one of the " + std::to_string(q.choices.size()) +
                                  " options; the last field must be one of " + last);
    if (q.question.empty()) fail(file, record.line, "the question (first field) is empty");
    q.expected = std::string(1, letter);
    out.push_back(std::move(q));
  }
  return out;
}

// The text of a JSON answer or choice: strings as they are, numbers as written.
std::optional<std::string> scalar_text(const json& value) {
  if (value.is_string()) return trim(value.get<std::string>());
  if (value.is_number()) return value.dump();
  return std::nullopt;
}

EvalQuestion parse_json_line(const std::string& line_text, const std::string& file, int line, DatasetFormat format) {
  const std::string example = format == DatasetFormat::gsm8k
                                  ? R"J({"question": "...", "answer": "... #### 42"})J"
                                  : R"J({"question": "...", "answer": "...", "choices": ["...", "..."]})J";
  json j = json::parse(line_text, nullptr, false);
  if (j.is_discarded()) fail(file, line, "not valid JSON; each line must be one JSON object like " + example);
  if (!j.is_object()) fail(file, line, "expected a JSON object like " + example + ", got " + j.type_name());
  if (!j.contains("question") || !j["question"].is_string() || trim(j["question"].get<std::string>()).empty())
    fail(file, line, "\"question\" is missing or not a non-empty string; write a line like " + example);
  if (!j.contains("answer")) fail(file, line, "\"answer\" is missing; write a line like " + example);
  auto answer = scalar_text(j["answer"]);
  if (!answer) fail(file, line, "\"answer\" must be a string or a number, got " + std::string(j["answer"].type_name()));
  EvalQuestion q;
  q.line = line;
  q.question = trim(j["question"].get<std::string>());
  if (format == DatasetFormat::gsm8k) {
    const size_t mark = answer->rfind("####");
    if (mark == std::string::npos)
      fail(file, line, "the GSM8K answer has no \"####\"; end it with \"#### <number>\" (or use --format jsonl)");
    std::string gold = trim(answer->substr(mark + 4));
    gold.erase(std::remove(gold.begin(), gold.end(), ','), gold.end());
    if (gold.empty()) fail(file, line, "nothing after \"####\" in the answer; write the final number after it");
    q.expected = gold;
  } else {
    if (answer->empty()) fail(file, line, "\"answer\" is empty");
    q.expected = *answer;
    if (j.contains("choices") && !j["choices"].is_null()) {
      if (!j["choices"].is_array() || j["choices"].size() < 2 || j["choices"].size() > 10)
        fail(file, line, "\"choices\" must be an array of 2 to 10 strings");
      for (const auto& choice : j["choices"]) {
        auto choice_text = scalar_text(choice);
        if (!choice_text) fail(file, line, "\"choices\" must hold strings, got " + std::string(choice.type_name()));
        q.choices.push_back(*choice_text);
      }
    }
  }
  return q;
}

std::vector<EvalQuestion> parse_jsonl(const std::string& text, const std::string& file, DatasetFormat format) {
  std::vector<EvalQuestion> out;
  int line = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::string line_text = trim(text.substr(begin, end - begin));
    begin = end + 1;
    if (line_text.empty()) continue;
    out.push_back(parse_json_line(line_text, file, line, format));
  }
  return out;
}

}  // namespace

DatasetFormat parse_dataset_format(const std::string& name) {
  if (name == "mmlu") return DatasetFormat::mmlu;
  if (name == "gsm8k") return DatasetFormat::gsm8k;
  if (name == "jsonl") return DatasetFormat::jsonl;
  throw std::invalid_argument("unknown dataset format '" + name + "'; use mmlu (CSV), gsm8k (JSONL) or jsonl");
}

std::string to_string(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::mmlu: return "mmlu";
    case DatasetFormat::gsm8k: return "gsm8k";
    case DatasetFormat::jsonl: return "jsonl";
  }
  return "jsonl";
}

std::vector<EvalQuestion> parse_dataset(const std::string& text, const std::string& file_name, DatasetFormat format) {
  const std::string_view bom = "\xEF\xBB\xBF";  // spreadsheet programs often start a UTF-8 file with one
  const std::string body = text.starts_with(bom) ? text.substr(bom.size()) : text;
  return format == DatasetFormat::mmlu ? parse_mmlu(body, file_name) : parse_jsonl(body, file_name, format);
}

std::vector<EvalQuestion> read_dataset(const std::string& path, DatasetFormat format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DatasetError(path + ": cannot read the dataset (no such file or not readable)");
  return parse_dataset(std::string(std::istreambuf_iterator<char>(in), {}), path, format);
}

std::string choice_lines(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out.push_back('\n');
    out.push_back(option_letter(i));
    out.append(") ").append(choices[i]);
  }
  return out;
}

std::string question_prompt(const EvalQuestion& question, bool ask_for_letter) {
  std::string out = question.question;
  if (!question.choices.empty()) out.append("\n").append(choice_lines(question.choices));
  if (ask_for_letter && !question.choices.empty())
    out.append("\nAnswer with the letter of the correct option (")
        .append(std::string(1, 'A'))
        .append("-")
        .append(std::string(1, option_letter(question.choices.size() - 1)))
        .append(").");
  return out;
}

}  // namespace chorus::cli
