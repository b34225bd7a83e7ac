// chorus calibrate compactor-ratio: fits Compactor's context-calibrated compression ratio (arXiv 2507.08143)
// on a model and data: quality f(r, c) = (e^{b(r-1)} - e^{-b}) / (1 - e^{-b}), b = alpha * NLL(c) + beta.
#include "cli/calibrate-command.h"

#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/kv-args.h"
#include "cli/kv-eval.h"
#include "cli/model-files.h"
#include "inference/compactor-ratio.h"
#include "inference/continuation-nll.h"
#include "inference/kv-compressor.h"
#include "inference/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

namespace chorus::cli {
namespace {

using nlohmann::ordered_json;

struct CompactorRatioArgs {
  std::string model, data, out, device = "cpu";
  std::string ratios = "0.5,0.25,0.125,0.0625";
  int64_t context_tokens = 512, continuation_tokens = 64, windows = 8;
  double tau = 0.9;
  PressArgs press;  // --sketch, --sketch-dim, --seed
};

struct Window {
  std::vector<int64_t> context, continuation;
};

// --ratios: a value in (0, 1] is a kept fraction, a value > 1 a compression factor (keep 1/value). Returns the
// distinct kept fractions below 1, largest first (r = 1 is always measured, as the reference).
std::vector<double> keep_ratios(const std::string& text) {
  std::vector<double> keep;
  for (double v : parse_numbers(text, "--ratios")) {
    if (!(v > 0)) throw std::invalid_argument("--ratios: " + std::to_string(v) + " is not > 0");
    const double r = v > 1 ? 1 / v : v;
    if (r < 1 && std::find(keep.begin(), keep.end(), r) == keep.end()) keep.push_back(r);
  }
  if (keep.empty()) throw std::invalid_argument("--ratios: give at least one kept fraction below 1 (or factor above 1)");
  std::sort(keep.rbegin(), keep.rend());
  return keep;
}

// `count` windows of prefix + context + continuation, spread over the documents long enough for one: window i
// goes to eligible document i mod D, and a document's windows start evenly from its beginning to its end.
std::vector<Window> make_windows(const std::vector<std::vector<int64_t>>& docs, const std::vector<int64_t>& prefix,
                                 const CompactorRatioArgs& a, const std::string& where) {
  const int64_t data_context = a.context_tokens - static_cast<int64_t>(prefix.size());
  const auto need = static_cast<size_t>(data_context + a.continuation_tokens);
  std::vector<const std::vector<int64_t>*> eligible;
  size_t longest = 0;
  for (const auto& d : docs) {
    longest = std::max(longest, d.size());
    if (d.size() >= need) eligible.push_back(&d);
  }
  if (eligible.empty())
    throw std::invalid_argument(where + ": the longest document has " + std::to_string(longest) + " tokens; a window needs " +
                                std::to_string(need) + " (--context-tokens + --continuation-tokens" +
                                (prefix.empty() ? std::string() : std::string(" - the BOS prefix")) + ")");
  const auto D = static_cast<int64_t>(eligible.size());
  std::vector<Window> out;
  for (int64_t i = 0; i < a.windows; ++i) {
    const auto& doc = *eligible[static_cast<size_t>(i % D)];
    const int64_t in_doc = (a.windows - 1 - i % D) / D + 1, j = i / D;  // windows this document gets, and which
    const auto room = static_cast<int64_t>(doc.size() - need);
    const int64_t start = in_doc > 1 ? (room * j) / (in_doc - 1) : 0;
    Window w;
    w.context = prefix;
    w.context.insert(w.context.end(), doc.begin() + start, doc.begin() + start + data_context);
    w.continuation.assign(doc.begin() + start + data_context,
                          doc.begin() + start + data_context + a.continuation_tokens);
    out.push_back(std::move(w));
  }
  return out;
}

// Mean NLL (nats) of context tokens 1..n-1 under the full cache (token t scored from the logits at t - 1).
double context_nll(const inference::Model& model, const std::vector<int64_t>& context) {
  torch::NoGradGuard no_grad;
  auto cache = model.new_cache();
  auto logits = model.forward(context, cache, /*last_only=*/false).to(torch::kCPU).to(torch::kFloat64);
  const auto n = static_cast<int64_t>(context.size());
  auto logp = torch::log_softmax(logits.narrow(0, 0, n - 1), -1);
  auto targets = torch::tensor(std::vector<int64_t>(context.begin() + 1, context.end()), torch::kInt64);
  return -logp.gather(1, targets.unsqueeze(1)).mean().item<double>();
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const std::string& where) {
  for (auto id : ids)
    if (id < 0 || id >= vocab)
      throw std::invalid_argument(where + ": token id " + std::to_string(id) + " is out of range (vocab_size " +
                                  std::to_string(vocab) + ")");
}

ordered_json calibrate(const CompactorRatioArgs& a) {
  if (a.context_tokens < 2) throw std::invalid_argument("--context-tokens must be >= 2");
  if (a.continuation_tokens < 1) throw std::invalid_argument("--continuation-tokens must be >= 1");
  if (a.windows < 1) throw std::invalid_argument("--windows must be >= 1");
  if (!(a.tau > 0 && a.tau <= 1)) throw std::invalid_argument("--tau must be in (0, 1]");
  const auto keep = keep_ratios(a.ratios);
  const auto start = std::chrono::steady_clock::now();

  auto model = inference::Model::load(a.model, load_options(a.device));
  std::optional<inference::Tokenizer> tokenizer;
  std::function<std::vector<int64_t>(const std::string&)> encode;
  if (std::filesystem::exists(std::filesystem::path(a.model) / "tokenizer.json"))
    encode = [&](const std::string& text) {
      if (!tokenizer) tokenizer.emplace(load_tokenizer(a.model));
      const auto ids = tokenizer->encode(text, /*add_special_tokens=*/false);
      return std::vector<int64_t>(ids.begin(), ids.end());
    };
  const auto docs = read_token_documents(a.data, encode);
  std::vector<int64_t> prefix;  // text data: the tokenizer's BOS (if any) starts every window
  if (tokenizer) {
    const auto bos = tokenizer->encode("", /*add_special_tokens=*/true);
    prefix.assign(bos.begin(), bos.end());
  }
  if (static_cast<int64_t>(prefix.size()) >= a.context_tokens)
    throw std::invalid_argument("--context-tokens must be larger than the tokenizer's special-token prefix");
  for (const auto& d : docs) check_ids(d, model->config().vocab_size, a.data);
  const auto windows = make_windows(docs, prefix, a, a.data);

  inference::CompressionSettings settings;
  settings.method = "compactor";
  settings.press = press_options("compactor", a.press, model->config(), a.model);

  std::vector<inference::RatioSample> samples;
  ordered_json rows = ordered_json::array();
  for (size_t w = 0; w < windows.size(); ++w) {
    const auto& win = windows[w];
    const double c_nll = context_nll(*model, win.context);
    auto cache = model->new_cache();
    const double full = inference::continuation_nll(*model, cache, win.context, win.continuation).mean_nll();
    auto add = [&](double r, double q, double nll) {
      samples.push_back({r, c_nll, q});
      rows.push_back({{"window", w}, {"keep_ratio", r}, {"context_nll", c_nll}, {"quality", q},
                      {"continuation_nll", nll}});
    };
    add(1.0, 1.0, full);
    for (double r : keep) {
      auto s = settings;
      s.keep_ratio = r;
      inference::PrefillCompressor compressor(s);
      auto compressed_cache = model->new_cache();
      const double nll =
          inference::continuation_nll(*model, compressed_cache, win.context, win.continuation, &compressor).mean_nll();
      add(r, std::clamp(std::exp(-(nll - full)), 0.0, 1.0), nll);
    }
    std::fprintf(stderr, "chorus calibrate compactor-ratio: window %zu/%zu: context NLL %.4f, continuation NLL %.4f\n",
                 w + 1, windows.size(), c_nll, full);
  }

  const auto fit = inference::fit_compactor_ratio(samples);
  double mean_nll = 0;
  for (const auto& s : samples) mean_nll += s.context_nll;
  mean_nll /= static_cast<double>(samples.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ordered_json out;
  out["method"] = "compactor";
  out["model"] = a.model;
  out["data"] = a.data;
  out["quality"] = "exp(-(NLL_r - NLL_1)) of the continuation after the context compressed to keep ratio r, in [0, 1]";
  out["model_form"] = "f(r) = (exp(b(r-1)) - exp(-b)) / (1 - exp(-b)), b = alpha * context_nll + beta";
  out["alpha"] = fit.alpha;
  out["beta"] = fit.beta;
  out["rmse"] = fit.rmse;
  out["sample_count"] = fit.samples;
  out["alpha_identified"] = fit.alpha_identified;
  out["iterations"] = fit.iterations;
  out["tau"] = a.tau;
  out["mean_context_nll"] = mean_nll;
  out["example_keep_ratio_at_mean_nll"] = inference::compactor_keep_ratio(fit, mean_nll, a.tau);
  out["keep_ratios"] = keep;
  out["context_tokens"] = a.context_tokens;
  out["continuation_tokens"] = a.continuation_tokens;
  out["windows"] = windows.size();
  out["seconds"] = seconds;
  out["samples"] = rows;
  return out;
}

void install_calibrate_compactor(CLI::App& root) {
  static CompactorRatioArgs args;
  auto* cmd = calibrate_app(root)->add_subcommand(
      "compactor-ratio", "Fit Compactor's context-calibrated compression ratio (alpha, beta) on a model and data");
  cmd->footer(
      "Each of --windows windows of the data is a context (--context-tokens, compressed) followed by a continuation "
      "(--continuation-tokens, scored). Per window: NLL(c) = mean NLL of the context tokens with the full cache; for "
      "every keep ratio r the context is prefilled with the compactor press keeping r of its entries and the "
      "continuation's mean NLL_r is measured; quality q(r) = exp(-(NLL_r - NLL_1)) clipped to [0, 1] (r = 1 is "
      "always measured, q = 1). Then f(r) = (e^{b(r-1)} - e^{-b}) / (1 - e^{-b}) with b = alpha NLL(c) + beta is "
      "fitted by least squares, and an input's keep ratio is the smallest r with f >= --tau. Data: UTF-8 text "
      "(encoded with the model's tokenizer; its BOS starts each window) or a JSON list of token ids (or a list of "
      "such lists, one per document). Prints the result JSON on stdout (also written to --out), progress on stderr.");
  cmd->add_option("--model", args.model, "Model directory")->required();
  cmd->add_option("--data", args.data, "Text file, or JSON [ids...] / [[ids...], ...]")->required();
  cmd->add_option("--ratios", args.ratios,
                  "Comma-separated: a value in (0, 1] is the KEPT fraction, a value > 1 a compression factor "
                  "(8 = keep 1/8)")
      ->capture_default_str();
  cmd->add_option("--context-tokens", args.context_tokens, "Tokens per context (the compressed part)")->capture_default_str();
  cmd->add_option("--continuation-tokens", args.continuation_tokens, "Tokens scored after each context")
      ->capture_default_str();
  cmd->add_option("--windows", args.windows, "Contexts (windows of the data) to measure")->capture_default_str();
  cmd->add_option("--tau", args.tau, "Quality target for the example keep ratio, in (0, 1]")->capture_default_str();
  cmd->add_option("--out", args.out, "Also write the result JSON to this file");
  cmd->add_option("--sketch", args.press.sketch,
                  "Compactor sketch: safetensors file with tensor 'phi' [kv_heads, head_dim, k] or [head_dim, k] "
                  "(default: a Gaussian sketch drawn from --seed)");
  cmd->add_option("--sketch-dim", args.press.sketch_dim, "k of the default sketch")->capture_default_str();
  cmd->add_option("--seed", args.press.seed, "Seed of the default sketch")->capture_default_str();
  add_device_option(cmd, args.device);
  cmd->callback([] {
    run_reporting_errors("calibrate compactor-ratio", [] {
      const auto result = calibrate(args);
      const std::string text = result.dump(2);
      if (!args.out.empty()) {
        std::ofstream out(args.out, std::ios::binary);
        if (!out || !(out << text << "\n")) throw std::runtime_error("--out " + args.out + ": cannot be written");
      }
      std::cout << text << "\n";
    });
  });
}

}  // namespace

// After `calibrate qfilters` (50), which creates the shared "calibrate" subcommand.
CHORUS_CLI_COMMAND(calibrate_compactor_ratio, 51, install_calibrate_compactor);

}  // namespace chorus::cli
