// Placeholder until the validator lands in this file (work in progress; replaced before commit).
#include "tools/json-schema.h"

namespace chorus::tools {
struct JsonSchema::Impl { nlohmann::json doc; };
JsonSchema::JsonSchema(const nlohmann::json& schema) : impl_(std::make_unique<Impl>(Impl{schema})) {}
JsonSchema::~JsonSchema() = default;
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema& JsonSchema::operator=(JsonSchema&&) noexcept = default;
std::vector<SchemaError> JsonSchema::validate(const nlohmann::json&) const { return {}; }
bool JsonSchema::is_valid(const nlohmann::json& i) const { return validate(i).empty(); }
const nlohmann::json& JsonSchema::document() const { return impl_->doc; }
std::string SchemaError::str() const { return (pointer.empty() ? "(root)" : pointer) + ": " + message; }
std::string join_errors(const std::vector<SchemaError>& errors) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e.str();
  return out;
}
}  // namespace chorus::tools
