#pragma once
// `chorus kv eval`: quality of KV-cache compression methods against compression ratio.
//
// perplexity: a context prefilled with PrefillCompressor at keep 1/R, then a continuation scored token by
//             token with the cache capped at the compressed size (StreamingEvictor) where the method can evict
//             while decoding ("capped": false where it cannot, e.g. snapkv, compactor: the cache then grows).
// passkey:    a context with a hidden pass key prefilled with PrefillCompressor at keep 1/R, the question
//             (not compressed) and greedy decoding; correct when the output contains the key.
// Ratio 1 is the full cache, computed once as the baseline and shared by every method.
#include "cli/kv-args.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace chorus::cli {

struct KvEvalOptions {
  std::string task = "perplexity";          // perplexity | passkey
  std::filesystem::path model;              // model directory
  std::vector<std::string> methods;         // press names as given (aliases allowed)
  std::vector<double> ratios;               // compression factors >= 1 (keep 1/R)
  std::filesystem::path data;               // perplexity: text or JSON ids; passkey: JSONL prompts (optional)
  int64_t window = 16;                      // recent entries always kept (prefill and decode)
  int64_t sinks = 4;                        // first entries always kept (attention sinks)
  std::string selection = "per_head";       // per_head | shared
  // perplexity
  int64_t context_tokens = 1024;
  int64_t continuation_tokens = 256;
  int64_t max_windows = 0;                  // 0 = every window of every document
  // passkey
  std::vector<int64_t> lengths = {1024, 2048};
  std::vector<double> depths = {0, 0.25, 0.5, 0.75, 1};
  int64_t samples = 2;
  int64_t max_new_tokens = 12;
  bool chat = false;                        // wrap each prompt as one user turn in the model's chat template
  PressArgs press;                          // --filters, --sketch, --sketch-dim, --seed (also seeds passkey)
  std::string device = "cpu";
};

// Runs the evaluation. Throws std::invalid_argument for bad options or data (unknown method, ratio < 1,
// qfilters without filters, unreadable data, passkey without a tokenizer). A method that fails at one ratio
// gets {"error": "..."} in that result and the run goes on.
nlohmann::ordered_json run_kv_eval(const KvEvalOptions& options);

// The results as a Markdown table (method, ratio, keep, quality, KV bytes, KV ratio, scoring share, capped).
std::string kv_eval_table(const nlohmann::ordered_json& results);
// The SVG chart of quality against ratio, one line per method.
std::string kv_eval_chart(const nlohmann::ordered_json& results);
// Writes dir/results.json, dir/results.md and dir/chart.svg (creating dir).
void write_kv_eval_outputs(const nlohmann::ordered_json& results, const std::filesystem::path& dir);

// Token id documents of a perplexity data file: a JSON list of ids or of id lists, or else a text file encoded
// by `encode` (null: error asking for a tokenizer). Throws std::invalid_argument naming the file.
std::vector<std::vector<int64_t>> read_token_documents(
    const std::filesystem::path& file, const std::function<std::vector<int64_t>(const std::string&)>& encode);

}  // namespace chorus::cli
