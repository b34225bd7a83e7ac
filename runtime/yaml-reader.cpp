#include "runtime/yaml-reader.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace chorus::runtime {

namespace {

bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

std::string shown_value(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

std::optional<long long> parse_integer(const std::string& s) {
  if (s.empty()) return std::nullopt;
  size_t used = 0;
  try {
    long long v = std::stoll(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<double> parse_float(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == ".nan" || s == ".NaN") return std::nullopt;
  size_t used = 0;
  try {
    double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

YamlReader::YamlReader(std::string file, std::string text) : file_(std::move(file)) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines_.push_back(line);
}

SourcePos YamlReader::pos(const YAML::Mark& mark) const {
  SourcePos p;
  p.file = file_;
  if (!mark.is_null() && mark.line >= 0) {
    p.line = mark.line + 1;
    p.column = mark.column + 1;
  }
  return p;
}

SourcePos YamlReader::pos(const YAML::Node& node) const {
  if (!node.IsDefined()) return pos(YAML::Mark::null_mark());
  if (node.IsNull())  // an empty value's mark is the next token: point at its key instead
    for (const auto& [value, key_mark] : null_values_)
      if (value.is(node)) return pos(key_mark);
  return pos(node.Mark());
}

std::string YamlReader::line_text(int line) const {
  return line >= 0 && static_cast<size_t>(line) < lines_.size() ? lines_[static_cast<size_t>(line)] : "";
}

SourcePos YamlReader::pos_in_scalar(const YAML::Node& scalar, size_t offset) const {
  SourcePos start = pos(scalar);
  if (start.line == 0 || !scalar.IsScalar()) return start;
  const std::string& text = scalar.Scalar();
  size_t line_in_text = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(std::min(
                                                                                         offset, text.size())),
                                                       '\n'));
  size_t line_start = offset > 0 ? text.rfind('\n', offset - 1) : std::string::npos;
  size_t column_in_line = line_start == std::string::npos ? offset : offset - line_start - 1;
  std::string source = line_text(start.line - 1);
  char first = static_cast<size_t>(start.column - 1) < source.size() ? source[static_cast<size_t>(start.column - 1)]
                                                                      : '\0';
  if (first == '|') {  // literal block: text lines follow, each indented alike
    size_t indent = std::string::npos;  // the block's indentation: that of its first non-blank line
    for (int line = start.line; indent == std::string::npos && static_cast<size_t>(line) < lines_.size(); ++line)
      indent = line_text(line).find_first_not_of(' ');
    if (indent == std::string::npos) return start;
    SourcePos p = start;
    p.line = start.line + 1 + static_cast<int>(line_in_text);
    p.column = static_cast<int>(indent + column_in_line) + 1;
    return p;
  }
  if (line_in_text != 0 || first == '>') return start;  // folded text: point at the scalar
  SourcePos p = start;
  p.column = start.column + static_cast<int>(offset) + ((first == '\'' || first == '"') ? 1 : 0);
  return p;
}

void YamlReader::error(const SourcePos& p, const std::string& problem) {
  errors_.push_back(Problem{p.line, p.column, p.str() + ": " + problem});
}

void YamlReader::warning(const SourcePos& p, const std::string& problem) {
  warnings_.push_back(Problem{p.line, p.column, p.str() + ": warning: " + problem});
}

std::vector<std::string> YamlReader::in_file_order(std::vector<Problem> problems) {
  std::stable_sort(problems.begin(), problems.end(), [](const Problem& a, const Problem& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::vector<std::string> out;
  for (auto& p : problems) out.push_back(std::move(p.text));
  return out;
}

void YamlReader::unknown_key(const YamlEntry& entry, const std::string& what,
                             const std::vector<std::string>& allowed) {
  std::string suggestion = closest_match(entry.key, allowed);
  if (!suggestion.empty())
    error(pos(entry.key_node), "unknown key '" + entry.key + "' in " + what + "; did you mean '" + suggestion + "'?");
  else
    error(pos(entry.key_node),
          "unknown key '" + entry.key + "' in " + what + "; the allowed keys are: " + join_names(allowed));
}

std::vector<YamlEntry> YamlReader::entries(const YAML::Node& node, const std::string& what,
                                           const std::vector<std::string>& allowed, const SourcePos& where_if_null) {
  std::vector<YamlEntry> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    SourcePos p = pos(node);
    if (p.line == 0) p = where_if_null;
    error(p, what + " must be a mapping (key: value lines), got " + shown_value(node) + "; see docs/workflow-yaml.md");
    return out;
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    YamlEntry entry{"", it->first, it->second};
    if (!it->first.IsScalar()) {
      error(pos(it->first), "a key in " + what + " must be a plain name, got " + shown_value(it->first) +
                                "; write `name: value`");
      continue;
    }
    entry.key = it->first.Scalar();
    if (it->second.IsNull()) null_values_.emplace_back(it->second, it->first.Mark());
    if (!seen.insert(entry.key).second) {
      error(pos(it->first), "duplicate key '" + entry.key + "' in " + what + "; remove one of them (YAML keeps " +
                                "only one)");
      continue;
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), entry.key) == allowed.end()) {
      unknown_key(entry, what, allowed);
      continue;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<std::string> YamlReader::string(const YAML::Node& node, const std::string& field) {
  if (node.IsScalar()) return node.Scalar();
  error(pos(node), field + " must be text, got " + shown_value(node) + "; quote it if it contains ': ' or starts "
                             "with [ or {");
  return std::nullopt;
}

std::optional<long long> YamlReader::integer(const YAML::Node& node, const std::string& field, long long min,
                                             long long max) {
  std::optional<long long> value;
  if (node.IsScalar() && is_plain(node)) value = parse_integer(node.Scalar());
  if (value && *value > max) {
    error(pos(node), field + " must be at most " + std::to_string(max) + ", got " + shown_value(node) +
                         "; use a smaller value");
    return std::nullopt;
  }
  if (!value || *value < min) {
    error(pos(node), field + " must be an integer >= " + std::to_string(min) + ", got " + shown_value(node) +
                         "; write e.g. `" + field.substr(field.rfind('.') + 1) + ": " +
                         std::to_string(std::max(min, 1LL)) + "`");
    return std::nullopt;
  }
  return value;
}

std::optional<double> YamlReader::number(const YAML::Node& node, const std::string& field, double min, double max) {
  std::optional<double> value;
  if (node.IsScalar() && is_plain(node)) value = parse_float(node.Scalar());
  if (value && !(*value <= max)) {
    std::ostringstream bound;
    bound << max;
    error(pos(node), field + " must be at most " + bound.str() + ", got " + shown_value(node) +
                         "; use a smaller value");
    return std::nullopt;
  }
  if (!value || *value < min) {
    std::ostringstream bound;
    bound << min;
    error(pos(node), field + " must be a number >= " + bound.str() + ", got " + shown_value(node) +
                         "; write e.g. `" + field.substr(field.rfind('.') + 1) + ": 30`");
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> YamlReader::string_list(const YAML::Node& node, const std::string& field) {
  if (node.IsNull()) return std::vector<std::string>{};
  if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (!node.IsSequence()) {
    error(pos(node), field + " must be a list of names, got " + shown_value(node) + "; write e.g. `[a, b]`");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      error(pos(item), field + " items must be names, got " + shown_value(item) + "; write e.g. `[a, b]`");
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (!is_plain(node)) return s;
    if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s.empty()) return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    if (auto i = parse_integer(s)) return *i;
    if (auto f = parse_float(s)) return *f;
    return s;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : node) out.push_back(yaml_to_json(item));
    return out;
  }
  nlohmann::json out = nlohmann::json::object();
  for (auto it = node.begin(); it != node.end(); ++it)
    out[it->first.IsScalar() ? it->first.Scalar() : std::string("?")] = yaml_to_json(it->second);
  return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3 + 1)) + 1;
  for (const auto& candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 12; ++i) {
    if (i) out.append(", ");
    out.append(names[i]);
  }
  if (names.size() > 12) out.append(", ...");
  if (names.empty()) out = "(none)";
  return out;
}

}  // namespace chorus::runtime
