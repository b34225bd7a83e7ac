#pragma once
// Reading tokenizer.json: a JSON value paired with its file and field path, so every error names both.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chorus::inference {

// A malformed or unsupported tokenizer.json; the message reads "FILE: FIELD.PATH problem".
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A JSON value at a known place (file + path such as "pre_tokenizer.pretokenizers[1]").
class JsonRef {
 public:
  // Wraps value, found at path (empty for the document root) in file.
  JsonRef(const nlohmann::json& value, std::string file, std::string path);
  // The JSON value.
  const nlohmann::json& value() const { return *value_; }
  // The field path ("<root>" for the document itself).
  std::string path() const { return path_.empty() ? "<root>" : path_; }
  // Whether key is present with a non-null value (false when this is not an object).
  bool has(std::string_view key) const;
  // The member key; throws when missing or null.
  JsonRef at(std::string_view key) const;
  // The member key, or the null value when missing (its path still names the key).
  JsonRef get(std::string_view key) const;
  // Element i of an array.
  JsonRef at(size_t index) const;
  // Throws unless this is an object / array / string / boolean / integer.
  void expect_object() const;
  void expect_array() const;
  // The value as a string / bool / integer in [lo, hi]; throws naming the expected type.
  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int(int64_t lo, int64_t hi) const;
  // Member shortcuts: a required string, an optional string (null or missing -> nullopt), a bool with default.
  std::string string_at(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  bool bool_or(std::string_view key, bool fallback) const;
  // The "type" member of a component object.
  std::string type() const;
  // Number of elements of an array.
  size_t size() const;
  bool is_null() const;
  // Throws TokenizerError("FILE: PATH what").
  [[noreturn]] void fail(const std::string& what) const;
  // Throws `FILE: PATH.type "X" is not supported (supported: LIST)`.
  [[noreturn]] void unsupported_type(const std::string& type, const std::string& supported) const;
  const std::string& file() const { return file_; }

 private:
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

}  // namespace chorus::inference
