// bench_tokenizer: Tokenizer::encode throughput (MB/s, one thread, median of several repetitions) on ~1 MB of
// mixed text, for the llama3 and qwen2-style tokenizer.json fixtures. Baseline in the same run: Hugging Face's
// JS tokenizer (@huggingface/tokenizers) on the same text, when node and benchmarks/node_modules have it
// (scripts/bench-setup installs it).
//
// Usage: bench_tokenizer [--reps N] [--mb SIZE] [--shared DIR] [--no-hf]
// The text: the `text` strings of fixtures/tokenizers/llama3/cases.jsonl in file order, each followed by "\n",
// repeated until the total is at least SIZE MiB (default 1), so every run encodes exactly the same bytes.
#include "benchmarks/bench-util.h"
#include "inference/tokenizer.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace chorus;

namespace {

std::string build_text(const fs::path& cases_file, size_t min_bytes, size_t* strings) {
  std::ifstream in(cases_file);
  if (!in) throw std::runtime_error("cannot read " + cases_file.string());
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto text = nlohmann::json::parse(line).at("text").get<std::string>();
    if (!text.empty()) texts.push_back(std::move(text));
  }
  if (texts.empty()) throw std::runtime_error(cases_file.string() + ": no cases");
  *strings = texts.size();
  std::string out;
  out.reserve(min_bytes + 8192);
  while (out.size() < min_bytes)
    for (const auto& t : texts) {
      out += t;
      out += '\n';
      if (out.size() >= min_bytes) break;
    }
  return out;
}

struct HfResult {
  bool ran = false;
  double mb_per_s = 0;
  size_t tokens = 0;
  std::string why_not;
};

HfResult run_hf(const fs::path& tokenizer_dir, const fs::path& text_file, int reps) {
  HfResult r;
  const fs::path script = fs::path(CHORUS_BENCHMARKS_DIR) / "hf_tokenizers_bench.mjs";
  const fs::path package = fs::path(CHORUS_BENCHMARKS_DIR) / "node_modules" / "@huggingface" / "tokenizers";
  int status = 0;
  bench::run_command("command -v node >/dev/null 2>&1", &status);
  if (status != 0) {
    r.why_not = "node is not installed";
    return r;
  }
  if (!fs::exists(package)) {
    r.why_not = "benchmarks/node_modules/@huggingface/tokenizers is missing (run scripts/bench-setup)";
    return r;
  }
  const std::string command = "node " + bench::shell_quote(script.string()) + " " +
                              bench::shell_quote(tokenizer_dir.string()) + " " +
                              bench::shell_quote(text_file.string()) + " " + std::to_string(reps);
  const std::string out = bench::run_command(command, &status);
  if (status != 0) {
    r.why_not = "node exited with status " + std::to_string(status);
    return r;
  }
  try {
    const auto j = nlohmann::json::parse(out.substr(out.find('{')));
    r.mb_per_s = j.at("mb_per_s").get<double>();
    r.tokens = j.at("tokens").get<size_t>();
    r.ran = true;
  } catch (const std::exception& e) {
    r.why_not = std::string("cannot read node's output: ") + e.what();
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  const int reps = std::stoi(bench::arg_value(argc, argv, "reps", "7"));
  const double mib = std::stod(bench::arg_value(argc, argv, "mb", "1"));
  const fs::path shared = bench::arg_value(argc, argv, "shared", CHORUS_SHARED_DIR);
  const bool want_hf = !bench::has_flag(argc, argv, "no-hf");
  const fs::path tokenizers = shared / "fixtures" / "tokenizers";

  size_t strings = 0;
  const std::string text =
      build_text(tokenizers / "llama3" / "cases.jsonl", static_cast<size_t>(mib * 1024 * 1024), &strings);
  const double mb = static_cast<double>(text.size()) / 1e6;

  // The text file node reads: the same bytes.
  char tmpl[] = "/tmp/chorus-bench-tokenizer-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  const fs::path text_file = tmpl;
  std::ofstream(text_file, std::ios::binary).write(text.data(), static_cast<std::streamsize>(text.size()));

  std::printf("bench_tokenizer: %zu bytes (%.3f MB) of text from %zu fixture strings; %d reps, median; "
              "1 thread; load average %.2f\n",
              text.size(), mb, strings, reps, bench::load_average());

  int exit_code = 0;
  for (const char* name : {"llama3", "qwen2-style"}) {
    const fs::path dir = tokenizers / name;
    double load_s = 0;
    std::optional<inference::Tokenizer> tok;
    load_s = bench::time_once([&] { tok.emplace(inference::Tokenizer::from_file(dir / "tokenizer.json")); });
    size_t tokens = 0;
    const auto samples = bench::time_reps(reps, 1, [&] { tokens = tok->encode(text, false).size(); });
    const double chorus_mbs = mb / bench::median(samples);
    std::printf("\n[%s] tokenizer.json load %.2f s; %zu tokens (%.2f bytes/token)\n", name, load_s, tokens,
                static_cast<double>(text.size()) / static_cast<double>(tokens));
    std::printf("  chorus encode: %8.2f MB/s  (median %.1f ms, min %.1f ms, max %.1f ms)\n", chorus_mbs,
                bench::median(samples) * 1e3, *std::min_element(samples.begin(), samples.end()) * 1e3,
                *std::max_element(samples.begin(), samples.end()) * 1e3);
    if (!want_hf) {
      std::printf("  hf baseline skipped (--no-hf)\n");
      continue;
    }
    const HfResult hf = run_hf(dir, text_file, reps);
    if (!hf.ran) {
      std::printf("  hf baseline skipped: %s\n", hf.why_not.c_str());
      continue;
    }
    std::printf("  hf @huggingface/tokenizers (node) encode: %8.2f MB/s  (%zu tokens%s)\n", hf.mb_per_s, hf.tokens,
                hf.tokens == tokens ? ", same count" : ", DIFFERENT COUNT");
    if (hf.tokens != tokens) exit_code = 1;
    std::printf("  ratio chorus/hf = %.1fx\n", chorus_mbs / hf.mb_per_s);
  }
  fs::remove(text_file);
  return exit_code;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
  return 1;
}
