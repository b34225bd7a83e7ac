#pragma once
// The bundled model's quality on the curriculum's held-out split (docs/curriculum.md), measured through the same
// path agents use: the `local` provider (chat template, tools, tool-call parser, greedy decoding) and the real tools.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chorus::cli {

struct QualityOptions {
  std::string model_dir;
  int64_t tool_examples = 200;      // held-out calculator / calendar / multi questions
  int64_t passkey_examples = 20;    // per passkey length
  std::vector<int64_t> passkey_lengths = {1024, 2048};  // context tokens
  uint64_t seed = 1;                // the curriculum seed (the eval split is drawn from its own streams)
  // Which questions (docs/curriculum.md): "held-out" (new sentence frames, date forms and numbers; operations named
  // with words training taught), "unseen-words" (the same, with operation words training never used) or "train"
  // (the train split's phrasings: a diagnostic of skill against wording).
  std::string questions = "held-out";
  bool constrain_tool_calls = true;  // the local provider's default; false: the model's calls unguided
  nlohmann::json kv;                // the local provider's `kv:` settings (every prompt; relative filters: the model dir); null = full cache
  std::string device = "cpu";
  int64_t failures_per_kind = 5;    // misses kept in the report per kind (format, call, answer, passkey)
  std::function<void(const std::string& line)> progress;  // one line per finished example (may be empty)
};

// Rates in [0, 1] with their counts; `failures` holds up to failures_per_kind misses of each kind.
struct QualityReport {
  std::string split = "held-out";  // QualityOptions::questions
  int64_t tool_total = 0;
  int64_t format_ok = 0;   // >= 1 call and every <tool_call> block parsed as {"name", "arguments": {...}}
  int64_t call_ok = 0;     // right tools, and arguments whose tool results equal the reference calls' results
  int64_t exact_args = 0;  // ... and arguments equal to the reference arguments as JSON
  int64_t answer_ok = 0;   // the final answer states the values the tool computed (not echoes of the question)
  struct Passkey {
    int64_t length = 0, total = 0, correct = 0;
  };
  std::vector<Passkey> passkey;
  double seconds = 0;
  nlohmann::json kv;  // the compression used (null: full cache)
  bool constrained = true;  // tool calls were constrained to the tools' schemas
  nlohmann::json failures = nlohmann::json::array();

  nlohmann::json to_json() const;
  // A markdown table (for MODEL_CARD.md).
  std::string markdown() const;
};

// The question sets QualityOptions::questions accepts, in the order --help lists them.
const std::vector<std::string>& quality_question_sets();

// Runs the evaluation; throws std::runtime_error naming the model directory when it cannot be loaded, and
// std::invalid_argument for an unknown question set.
QualityReport evaluate_model_quality(const QualityOptions& options);

}  // namespace chorus::cli
