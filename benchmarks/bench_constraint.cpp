// bench_constraint: what holding a tool call to its schema costs per generated token
// (ToolCallConstraint::mask_next plus accept), on the bundled model's 3.2K-token vocabulary and on a
// 128K-token Llama-3-style one.
//
// Baseline in the same process: one decode step of the bundled model (models/chorus-tiny, one token after a
// 300-token context), the cheapest forward a constrained token rides on. Each vocabulary's mask time per
// token is reported as a multiple of it, with the one-off trie build.
//
// Usage: bench_constraint [--model DIR] [--shared DIR] [--reps 5]
#include "benchmarks/bench-util.h"
#include "inference/model.h"
#include "inference/tokenizer.h"
#include "inference/tool-call-constraint.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace chorus;

namespace {

// A calendar-like and a calculator-like tool, as the built-in tools declare them (tools/calendar.cpp,
// calculator.cpp).
std::shared_ptr<const inference::SchemaNode> call_schema() {
  return inference::compile_tool_call_schema(
      {{"calculator", nlohmann::json::parse(R"({"type": "object", "additionalProperties": false,
          "required": ["expression"], "properties": {"expression": {"type": "string", "minLength": 1}}})")},
       {"calendar", nlohmann::json::parse(R"({"type": "object", "additionalProperties": false,
          "required": ["operation"],
          "properties": {"operation": {"enum": ["today", "add", "diff", "weekday", "iso_week", "business_days"]},
            "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "start": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "end": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
            "amount": {"type": "integer", "minimum": -10000000, "maximum": 10000000},
            "unit": {"enum": ["days", "weeks", "months", "years"]}},
          "if": {"properties": {"operation": {"const": "add"}}, "required": ["operation"]},
          "then": {"propertyNames": {"enum": ["operation", "date", "amount", "unit"]},
                   "required": ["date", "amount", "unit"]}})")}});
}

const char* kCalls =
    "<tool_call>\n{\"name\": \"calendar\", \"arguments\": {\"operation\": \"add\", \"date\": \"2024-03-15\", "
    "\"amount\": 90, \"unit\": \"days\"}}\n</tool_call><tool_call>\n{\"name\": \"calculator\", "
    "\"arguments\": "
    "{\"expression\": \"(1234 + 5678) * 12 - sqrt(144) / 3.5\"}}\n</tool_call>";

struct Result {
  size_t vocab = 0, tokens = 0, masked = 0;
  double build_s = 0, mean_s = 0, max_s = 0;
};

Result measure(const inference::Tokenizer& tok, int reps) {
  Result r;
  std::shared_ptr<const inference::TokenTrie> trie;
  r.build_s = bench::time_once(
      [&] { trie = std::make_shared<const inference::TokenTrie>(inference::TokenTrie::of(tok)); });
  r.vocab = trie->size();
  const auto schema = call_schema();
  const auto ids = tok.encode(kCalls, false);
  r.tokens = ids.size();
  std::vector<double> per_token;
  std::vector<uint8_t> mask;
  for (int rep = 0; rep < reps; ++rep) {
    inference::ToolCallConstraint c(trie, schema);
    size_t masked = 0;
    for (int32_t id : ids) {
      const auto start = bench::Clock::now();
      masked += c.mask_next(mask);
      c.accept(id);
      per_token.push_back(bench::seconds_since(start));
    }
    r.masked = masked;
  }
  double sum = 0;
  for (double s : per_token) sum += s, r.max_s = std::max(r.max_s, s);
  r.mean_s = sum / static_cast<double>(per_token.size());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path model_dir = fs::path(CHORUS_BENCHMARKS_DIR) / "../models/chorus-tiny";
  fs::path shared = CHORUS_SHARED_DIR;
  int reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--model")
      model_dir = argv[i + 1];
    else if (a == "--shared")
      shared = argv[i + 1];
    else if (a == "--reps")
      reps = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "bench_constraint: unknown option %s (--model DIR, --shared DIR, --reps N)\n",
                   a.c_str());
      return 2;
    }
  }
  try {
    torch::set_num_threads(1);
    const auto model = inference::Model::load(model_dir);
    const auto tiny = inference::Tokenizer::from_file(model_dir / "tokenizer.json");
    std::vector<int64_t> context;
    for (int64_t i = 0; i < 300; ++i) context.push_back(100 + i % 1000);
    std::vector<double> steps;
    for (int rep = 0; rep < reps; ++rep) {
      auto cache = model->new_cache();
      model->forward(context, cache, /*last_only=*/true, {});
      for (int k = 0; k < 8; ++k)
        steps.push_back(
            bench::time_once([&] { model->forward({context.back()}, cache, /*last_only=*/true, {}); }));
    }
    const double decode = bench::median(steps);
    std::printf("bench_constraint: load %.2f, 1 thread\n", bench::load_average());
    std::printf("baseline: one decode step of %s at context 300: %.1f us (median of %zu)\n\n",
                model_dir.lexically_normal().c_str(), decode * 1e6, steps.size());
    std::printf(
        "| vocabulary | tokens | trie build | call tokens (masked) | mask per token, mean / max | mean / "
        "decode step |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    const auto row = [&](const char* name, const inference::Tokenizer& tok) {
      const Result r = measure(tok, reps);
      std::printf("| %s | %zu | %.0f ms | %zu (%zu) | %.1f / %.1f us | %.2fx |\n", name, r.vocab,
                  r.build_s * 1e3, r.tokens, r.masked, r.mean_s * 1e6, r.max_s * 1e6, r.mean_s / decode);
    };
    row("chorus-tiny (byte-level BPE)", tiny);
    const fs::path llama = shared / "fixtures/tokenizers/llama3/tokenizer.json";
    if (fs::exists(llama))
      row("Llama-3 (128K)", inference::Tokenizer::from_file(llama));
    else
      std::printf("(no %s: the 128K row is skipped)\n", llama.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_constraint: %s\n", e.what());
    return 1;
  }
  return 0;
}
