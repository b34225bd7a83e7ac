// chorus calibrate qfilters: Q-Filters calibration of a model on text or token ids, written in the official
// safetensors layout (tensor "q_filters" [layers, kv_heads, head_dim] = -filters, what kvpress loads).
#include "cli/calibrate-command.h"

#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/model-files.h"
#include "inference/model.h"
#include "inference/qfilters-calibration.h"
#include "inference/safetensors-writer.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>

namespace chorus::cli {

CLI::App* calibrate_app(CLI::App& root) {
  for (auto* existing : root.get_subcommands([](CLI::App* app) { return app->get_name() == "calibrate"; }))
    return existing;
  auto* app = root.add_subcommand("calibrate", "Calibrate KV-compression parameters of a model (Q-Filters, ...)");
  app->require_subcommand(1);
  return app;
}

namespace {

using nlohmann::json;
using Sequences = std::vector<std::vector<int64_t>>;

struct QFiltersArgs {
  std::string model, text_file, tokens_file, out, device = "cpu";
  int64_t num_sequences = 20, seq_len = 2048, svd_samples = 3000;
  uint64_t seed = 0;
};

// Consecutive windows of at most `seq_len` tokens of `ids`, appended to `out` until it holds `max_windows`;
// a trailing piece shorter than 2 tokens is dropped.
void append_windows(const std::vector<int64_t>& ids, int64_t seq_len, int64_t max_windows, Sequences& out) {
  const auto step = static_cast<size_t>(seq_len);
  for (size_t start = 0; start < ids.size() && static_cast<int64_t>(out.size()) < max_windows; start += step) {
    const size_t end = std::min(ids.size(), start + step);
    if (end - start < 2) break;
    out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(start), ids.begin() + static_cast<std::ptrdiff_t>(end));
  }
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("--text-file " + path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// --tokens-file: [[ids...], ...] (one sequence per list) or a flat [ids...] (one sequence).
Sequences read_tokens_file(const std::string& path) {
  const std::string where = "--tokens-file " + path;
  const std::string expected = "expected a JSON list of lists of token ids, e.g. [[1, 2, 3], [4, 5, 6]]";
  json doc;
  try {
    doc = read_json_file(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("--tokens-file " + std::string(e.what()));
  }
  if (!doc.is_array() || doc.empty()) throw std::runtime_error(where + ": " + expected);
  const bool flat = std::all_of(doc.begin(), doc.end(), [](const json& x) { return x.is_number(); });
  if (flat) doc = json::array({doc});
  Sequences sequences;
  for (size_t i = 0; i < doc.size(); ++i) {
    const auto& seq = doc[i];
    if (!seq.is_array()) throw std::runtime_error(where + ": item " + std::to_string(i) + " is not a list; " + expected);
    if (seq.size() < 2)
      throw std::runtime_error(where + ": sequence " + std::to_string(i) + " has " + std::to_string(seq.size()) +
                               " token(s); each sequence needs at least 2");
    std::vector<int64_t> ids;
    for (size_t j = 0; j < seq.size(); ++j) {
      const auto& id = seq[j];
      const bool ok = id.is_number_unsigned() ? id.get<uint64_t>() <= uint64_t{INT64_MAX}
                                              : id.is_number_integer() && id.get<int64_t>() >= 0;
      if (!ok)
        throw std::runtime_error(where + ": sequence " + std::to_string(i) + ", position " + std::to_string(j) +
                                 ": " + id.dump() + " is not a non-negative integer token id");
      ids.push_back(id.get<int64_t>());
    }
    sequences.push_back(std::move(ids));
  }
  return sequences;
}

void check_vocab(const Sequences& sequences, int64_t vocab_size, const std::string& where, const std::string& fix) {
  for (size_t i = 0; i < sequences.size(); ++i)
    for (size_t j = 0; j < sequences[i].size(); ++j)
      if (sequences[i][j] >= vocab_size)
        throw std::runtime_error(where + ": token id " + std::to_string(sequences[i][j]) + " (sequence " +
                                 std::to_string(i) + ", position " + std::to_string(j) + ") is out of the model's vocab (vocab_size " +
                                 std::to_string(vocab_size) + ")" + fix);
}

// Fails early (before any compute) when `out` cannot be written.
void check_output_path(const std::string& out) {
  const std::filesystem::path path(out);
  if (std::filesystem::is_directory(path))
    throw std::runtime_error("--out " + out + ": is a directory; give a file name such as q_filters.safetensors");
  const auto parent = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  if (!std::filesystem::is_directory(parent))
    throw std::runtime_error("--out " + out + ": directory " + parent.string() + " does not exist; create it first");
  if (::access(parent.c_str(), W_OK) != 0)
    throw std::runtime_error("--out " + out + ": directory " + parent.string() + " is not writable");
}

// Positions (over all sequences concatenated) used for the SVD: all of them when n <= samples, else `samples`
// drawn uniformly without replacement (partial Fisher-Yates, mt19937_64 seeded with `seed`), sorted.
std::vector<int64_t> sample_positions(int64_t n, int64_t samples, uint64_t seed) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t{0});
  if (n <= samples) return all;
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < samples; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, n - 1);
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(pick(rng))]);
  }
  all.resize(static_cast<size_t>(samples));
  std::sort(all.begin(), all.end());
  return all;
}

void calibrate_qfilters(const QFiltersArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  if (a.seq_len < 2) throw std::invalid_argument("--seq-len " + std::to_string(a.seq_len) + ": must be at least 2");
  if (a.num_sequences < 1)
    throw std::invalid_argument("--num-sequences " + std::to_string(a.num_sequences) + ": must be at least 1");
  if (a.svd_samples < 1)
    throw std::invalid_argument("--svd-samples " + std::to_string(a.svd_samples) + ": must be at least 1");
  if (a.text_file.empty() == a.tokens_file.empty())
    throw std::invalid_argument("give the calibration data with exactly one of --text-file or --tokens-file");
  const std::filesystem::path dir(a.model);
  if (!std::filesystem::is_directory(dir))
    throw std::invalid_argument("--model " + a.model + ": not a directory; pass a Hugging Face model directory");
  check_output_path(a.out);
  const auto config = inference::ModelConfig::load(dir);

  Sequences windows;
  if (!a.text_file.empty()) {
    if (!std::filesystem::exists(dir / "tokenizer.json"))
      throw std::runtime_error((dir / "tokenizer.json").string() +
                               ": missing, so --text-file cannot be encoded; give token ids with --tokens-file instead");
    const auto text = read_text_file(a.text_file);
    if (text.empty()) throw std::runtime_error("--text-file " + a.text_file + ": is empty; give some calibration text");
    const auto encoded = load_tokenizer(dir).encode(text, /*add_special_tokens=*/true);
    const std::vector<int64_t> ids(encoded.begin(), encoded.end());
    if (ids.size() < 2)
      throw std::runtime_error("--text-file " + a.text_file + ": encodes to " + std::to_string(ids.size()) +
                               " token(s); calibration needs at least 2");
    check_vocab({ids}, config.vocab_size, "--text-file " + a.text_file,
                "; tokenizer.json does not match the model's config.json");
    append_windows(ids, a.seq_len, a.num_sequences, windows);
  } else {
    const auto sequences = read_tokens_file(a.tokens_file);
    check_vocab(sequences, config.vocab_size, "--tokens-file " + a.tokens_file, "; use ids below vocab_size");
    for (const auto& seq : sequences) append_windows(seq, a.seq_len, a.num_sequences, windows);
  }

  int64_t total = 0;
  for (const auto& w : windows) total += static_cast<int64_t>(w.size());
  const auto positions = sample_positions(total, a.svd_samples, a.seed);

  auto model = inference::Model::load(dir, load_options(a.device));
  const auto layers = static_cast<size_t>(config.num_layers);
  std::vector<std::vector<torch::Tensor>> rows(layers);  // per layer: the sampled query rows of each window
  int64_t offset = 0;
  size_t next = 0;  // first entry of `positions` not yet used
  for (const auto& w : windows) {
    const auto n = static_cast<int64_t>(w.size());
    std::vector<int64_t> local;
    for (; next < positions.size() && positions[next] < offset + n; ++next) local.push_back(positions[next] - offset);
    offset += n;
    if (local.empty()) continue;
    auto index = torch::tensor(local, torch::kInt64).to(model->options().device);
    auto cache = model->new_cache();
    model->forward(w, cache, /*last_only=*/true, [&](const inference::LayerActivations& act, inference::KvCache&) {
      rows[static_cast<size_t>(act.layer)].push_back(
          act.queries.index_select(1, index).to(torch::kCPU, torch::kFloat32));
    });
  }
  std::vector<torch::Tensor> queries;
  for (auto& layer_rows : rows) queries.push_back(torch::cat(layer_rows, 1));
  const auto filters = inference::qfilters_calibrate(queries, config.num_kv_heads);

  const std::map<std::string, std::string> metadata = {
      {"format", "q_filters"},
      {"convention", "score = -(q_filters . k) = filters . k, highest kept"},
      {"model", a.model},
      {"num_sequences", std::to_string(windows.size())},
      {"seq_len", std::to_string(a.seq_len)},
      {"svd_samples", std::to_string(a.svd_samples)},
      {"seed", std::to_string(a.seed)},
      {"tokens", std::to_string(total)}};
  inference::write_safetensors(a.out, {{"q_filters", filters.stored().to(torch::kFloat32).contiguous()}}, metadata);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char summary[256];
  std::snprintf(summary, sizeof summary, "%zu layers x %lld kv heads, %zu sequences, %lld tokens (%zu sampled), %.1f s",
                layers, static_cast<long long>(config.num_kv_heads), windows.size(), static_cast<long long>(total),
                positions.size(), seconds);
  std::cerr << "chorus calibrate qfilters: " << summary << "\n";
  std::cout << a.out << "\n";
}

void install_calibrate_qfilters(CLI::App& root) {
  static QFiltersArgs args;
  auto* cmd = calibrate_app(root)->add_subcommand(
      "qfilters", "Calibrate Q-Filters on text or token ids; write the official q_filters .safetensors file");
  cmd->footer(
      "Per layer and kv head: the principal direction of the post-RoPE queries, oriented by majority vote, averaged "
      "over the GQA group. Written as tensor \"q_filters\" [layers, kv_heads, head_dim] float32 = -filters (the "
      "layout make_filters.py publishes and kvpress loads). Text is encoded once (with the tokenizer's special "
      "tokens, e.g. BOS) and cut into consecutive windows of --seq-len tokens; with --tokens-file each list is cut "
      "the same way. At most --num-sequences windows are used; a trailing piece shorter than 2 tokens is dropped; a "
      "text shorter than one window is used whole. Prints the output path on stdout, a summary on stderr.");
  cmd->add_option("--model", args.model, "Model directory")->required();
  auto* text = cmd->add_option("--text-file", args.text_file, "Calibration text (UTF-8), encoded with tokenizer.json");
  auto* tokens = cmd->add_option("--tokens-file", args.tokens_file,
                                 "Calibration token ids instead of text: JSON [[ids...], ...] (or one flat list)");
  text->excludes(tokens);
  cmd->add_option("--num-sequences", args.num_sequences, "Most windows to run")->capture_default_str();
  cmd->add_option("--seq-len", args.seq_len, "Tokens per window (at least 2)")->capture_default_str();
  cmd->add_option("--svd-samples", args.svd_samples,
                  "Query rows per layer for the SVD, drawn uniformly without replacement (all when fewer)")
      ->capture_default_str();
  cmd->add_option("--seed", args.seed, "Seed of the row sampling")->capture_default_str();
  add_device_option(cmd, args.device);
  cmd->add_option("--out", args.out, "Output .safetensors file (its directory must exist)")->required();
  cmd->callback([] { run_reporting_errors("calibrate qfilters", [] { calibrate_qfilters(args); }); });
}

}  // namespace

CHORUS_CLI_COMMAND(calibrate_qfilters, 50, install_calibrate_qfilters);

}  // namespace chorus::cli
