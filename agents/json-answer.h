#pragma once
// Finding the JSON value in a model's answer (bare, in a ```json fence, or the first {...} block).
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace chorus::agents {

// The JSON in `text`: the whole text when it parses, else the first ``` fence (```json or plain) that parses,
// else the first balanced {...} block that parses; nullopt when there is none.
std::optional<nlohmann::json> extract_json(const std::string& text);

}  // namespace chorus::agents
