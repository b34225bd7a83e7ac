#pragma once
// Reading CSV text (RFC 4180): quoted fields with commas, doubled quotes and line breaks; LF or CRLF lines.
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::cli {

// One record and the 1-based line it starts on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

// A malformed CSV text; `line()` is where the problem starts.
class CsvError : public std::invalid_argument {
 public:
  CsvError(int line, const std::string& what) : std::invalid_argument(what), line_(line) {}
  int line() const { return line_; }

 private:
  int line_;
};

// Every record of `text`; blank lines are skipped. Throws CsvError for a quote left open or text after a
// closing quote.
std::vector<CsvRecord> parse_csv(const std::string& text);

}  // namespace chorus::cli
