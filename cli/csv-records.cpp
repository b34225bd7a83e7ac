#include "cli/csv-records.h"

namespace chorus::cli {

std::vector<CsvRecord> parse_csv(const std::string& text) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  bool record_open = false;  // the current line has content (else a line break is a blank line)
  bool field_begun = false;  // the current field has text or a quote
  int line = 1;
  size_t i = 0;
  const size_t n = text.size();
  auto end_record = [&] {
    if (record_open) {
      record.fields.push_back(std::move(field));
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    field.clear();
    record_open = field_begun = false;
  };
  while (i < n) {
    if (!record_open) record.line = line;
    const char c = text[i];
    if (c == '"' && !field_begun) {
      // A quoted field: up to the closing quote; "" is one quote; line breaks are part of the field.
      const int quote_line = line;
      record_open = field_begun = true;
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field.push_back(text[i++]);
      }
      if (!closed)
        throw CsvError(quote_line, "a quoted field opened here is never closed; end it with \" "
                                   "(a quote inside a quoted field is written \"\")");
      if (i < n && text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      if (i < n && text[i] != ',' && text[i] != '\n')
        throw CsvError(line, "text after a closing quote; quote the whole field and write a quote inside it as \"\"");
      continue;
    }
    if (c == ',') {
      record.fields.push_back(std::move(field));
      field.clear();
      record_open = true;
      field_begun = false;
      ++i;
      continue;
    }
    if (c == '\n' || (c == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      i += c == '\r' ? 2 : 1;
      end_record();
      ++line;
      continue;
    }
    field.push_back(c);
    record_open = field_begun = true;
    ++i;
  }
  end_record();
  return records;
}

}  // namespace chorus::cli
