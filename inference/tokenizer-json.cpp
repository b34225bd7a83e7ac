// JsonRef: typed access to tokenizer.json members with errors naming the file and field path.
#include "inference/tokenizer-json.h"

#include <nlohmann/json.hpp>

namespace chorus::inference {
namespace {

const nlohmann::json& null_json() {
  static const nlohmann::json null_value;
  return null_value;
}

std::string type_of(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

}  // namespace

JsonRef::JsonRef(const nlohmann::json& value, std::string file, std::string path)
    : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

bool JsonRef::has(std::string_view key) const {
  if (!value_->is_object()) return false;
  auto it = value_->find(std::string(key));
  return it != value_->end() && !it->is_null();
}

JsonRef JsonRef::get(std::string_view key) const {
  std::string child = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  if (value_->is_object()) {
    auto it = value_->find(std::string(key));
    if (it != value_->end()) return JsonRef(*it, file_, child);
  }
  return JsonRef(null_json(), file_, child);
}

JsonRef JsonRef::at(std::string_view key) const {
  expect_object();
  JsonRef r = get(key);
  if (r.is_null()) {
    if (value_->find(std::string(key)) == value_->end()) r.fail("is missing");
    r.fail("must not be null");
  }
  return r;
}

JsonRef JsonRef::at(size_t index) const {
  expect_array();
  if (index >= value_->size()) fail("has no element " + std::to_string(index));
  return JsonRef((*value_)[index], file_, path() + "[" + std::to_string(index) + "]");
}

void JsonRef::expect_object() const {
  if (!value_->is_object()) fail("must be an object, not " + type_of(*value_));
}

void JsonRef::expect_array() const {
  if (!value_->is_array()) fail("must be an array, not " + type_of(*value_));
}

std::string JsonRef::as_string() const {
  if (!value_->is_string()) fail("must be a string, not " + type_of(*value_));
  return value_->get<std::string>();
}

bool JsonRef::as_bool() const {
  if (!value_->is_boolean()) fail("must be a boolean, not " + type_of(*value_));
  return value_->get<bool>();
}

int64_t JsonRef::as_int(int64_t lo, int64_t hi) const {
  if (!value_->is_number_integer()) fail("must be an integer, not " + type_of(*value_));
  if (value_->is_number_unsigned() && value_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail("is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  int64_t v = value_->get<int64_t>();
  if (v < lo || v > hi) fail("is " + std::to_string(v) + ", out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

std::string JsonRef::string_at(std::string_view key) const { return at(key).as_string(); }

std::optional<std::string> JsonRef::optional_string(std::string_view key) const {
  JsonRef r = get(key);
  if (r.is_null()) return std::nullopt;
  return r.as_string();
}

bool JsonRef::bool_or(std::string_view key, bool fallback) const {
  JsonRef r = get(key);
  if (r.is_null()) return fallback;
  return r.as_bool();
}

std::string JsonRef::type() const { return string_at("type"); }

size_t JsonRef::size() const {
  expect_array();
  return value_->size();
}

bool JsonRef::is_null() const { return value_->is_null(); }

void JsonRef::fail(const std::string& what) const { throw TokenizerError(file_ + ": " + path() + " " + what); }

void JsonRef::unsupported_type(const std::string& type, const std::string& supported) const {
  get("type").fail("\"" + type + "\" is not supported (supported: " + supported + ")");
}

}  // namespace chorus::inference
