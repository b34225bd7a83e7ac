#pragma once
// JSON Schema (draft 2020-12) validator for tool arguments and results.
#include <nlohmann/json.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::tools {

// One reason an instance does not match: where (JSON pointer into the instance) and why.
struct SchemaError {
  std::string pointer;  // e.g. "/expression" ("" for the root)
  std::string message;  // e.g. "expected string, got number"
  // "/expression: expected string, got number" ("(root): ..." for the root).
  std::string str() const;
};

// Thrown when a schema itself is malformed (wrong keyword type, unresolvable $ref, bad regex).
class SchemaCompileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A compiled schema: compile once, validate many instances. Thread-safe for concurrent validate().
class JsonSchema {
 public:
  // Compiles `schema`; throws SchemaCompileError naming the schema location and the problem.
  explicit JsonSchema(const nlohmann::json& schema);
  ~JsonSchema();
  JsonSchema(JsonSchema&&) noexcept;
  JsonSchema& operator=(JsonSchema&&) noexcept;

  // All errors found in `instance` (empty when valid).
  std::vector<SchemaError> validate(const nlohmann::json& instance) const;
  // True when `instance` matches.
  bool is_valid(const nlohmann::json& instance) const;
  // The schema document as given.
  const nlohmann::json& document() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Joins errors as "ptr: msg; ptr: msg" for one-line reports.
std::string join_errors(const std::vector<SchemaError>& errors);

}  // namespace chorus::tools
