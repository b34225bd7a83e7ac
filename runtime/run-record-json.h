#pragma once
// RunRecord as JSON (the final frame of a host's run stream).
#include "runtime/run-store.h"

#include <nlohmann/json.hpp>

namespace chorus::runtime {

// Every field of the record as one JSON object.
nlohmann::json run_record_to_json(const RunRecord& run);
// The inverse; missing fields keep their defaults.
RunRecord run_record_from_json(const nlohmann::json& j);

}  // namespace chorus::runtime
