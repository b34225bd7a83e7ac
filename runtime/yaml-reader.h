#pragma once
// YamlReader: reads a yaml-cpp document while collecting every problem as "file:line:column: problem; fix"
// (duplicate and unknown keys with a did-you-mean, wrong types). Internal to chorus_runtime (yaml-cpp is private).
#include "runtime/workflow-spec.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace chorus::runtime {

// One key of a mapping, in written order.
struct YamlEntry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class YamlReader {
 public:
  // `text` is the document's source (used to place positions inside scalars).
  YamlReader(std::string file, std::string text);

  // Where a node was written (a null node without a mark: the file only).
  SourcePos pos(const YAML::Node& node) const;
  SourcePos pos(const YAML::Mark& mark) const;
  // Where character `offset` of a scalar's text was written (exact for one-line and `|` scalars, else the scalar).
  SourcePos pos_in_scalar(const YAML::Node& scalar, size_t offset) const;

  // Records "pos: problem" (the problem text should end with "; the fix").
  void error(const SourcePos& pos, const std::string& problem);
  void warning(const SourcePos& pos, const std::string& problem);
  // The recorded problems in file order (by line, then column; the file-only ones first).
  std::vector<std::string> errors() const { return in_file_order(errors_); }
  std::vector<std::string> warnings() const { return in_file_order(warnings_); }
  bool has_errors() const { return !errors_.empty(); }
  const std::string& file() const { return file_; }

  // A mapping's entries; reports a non-mapping, duplicate keys and keys not in `allowed` (empty: any key). A
  // null node is an empty mapping. `what` names the mapping in messages, e.g. "agent 'writer'".
  std::vector<YamlEntry> entries(const YAML::Node& node, const std::string& what,
                                 const std::vector<std::string>& allowed, const SourcePos& where_if_null = {});
  // Reports an unknown key (with a did-you-mean or the list of allowed keys).
  void unknown_key(const YamlEntry& entry, const std::string& what, const std::vector<std::string>& allowed);

  // Scalar readers: report a wrong type at the node and return nullopt. `field` names it, e.g. "agents.a.max_iter".
  std::optional<std::string> string(const YAML::Node& node, const std::string& field);
  // An integer in [min, max]; anything else is reported (so a huge value never wraps when narrowed).
  std::optional<long long> integer(const YAML::Node& node, const std::string& field, long long min,
                                   long long max = 1'000'000);
  // A number in [min, max] (the default max, 10^7, is ~115 days in seconds).
  std::optional<double> number(const YAML::Node& node, const std::string& field, double min, double max = 1e7);
  // A list of strings (a single string is a list of one).
  std::optional<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& field);

 private:
  std::string line_text(int line) const;

  std::string file_;
  std::vector<std::string> lines_;
  struct Problem {
    int line, column;
    std::string text;
  };
  static std::vector<std::string> in_file_order(std::vector<Problem> problems);

  std::vector<Problem> errors_, warnings_;
  std::vector<std::pair<YAML::Node, YAML::Mark>> null_values_;  // empty values and their keys' marks
};

// A YAML node as JSON: plain scalars become null, booleans, integers or floats when they read as such.
nlohmann::json yaml_to_json(const YAML::Node& node);

// Levenshtein distance between two words.
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word` if it is close enough to be a likely typo, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
// "a, b, c" (at most 12 names, then "...").
std::string join_names(const std::vector<std::string>& names);

}  // namespace chorus::runtime
