#pragma once
// Python json.dumps for Jinja values (what transformers' `tojson` filter calls).
#include <optional>
#include <string>

#include "inference/jinja-value.h"

namespace chorus::inference::jinja {

// json.dumps options; the defaults give json.dumps(x, ensure_ascii=False).
struct JsonDumpOptions {
  std::optional<std::string> indent;  // per-level indent; nullopt = one line
  std::string item_separator = ", ";  // json.dumps uses "," when indent is set
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

// The JSON text of `value` exactly as Python's json.dumps writes it; throws OperationError for
// values JSON cannot hold (undefined, functions, namespaces).
std::string dump_json(const Value& value, const JsonDumpOptions& options = {});

}  // namespace chorus::inference::jinja
