// chorus kv inspect: one prefill compression of a token sequence, printed as the positions each KV head keeps.
#include "cli/kv-command.h"

#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/kv-args.h"
#include "inference/compactor-ratio.h"
#include "inference/kv-compressor.h"
#include "inference/model.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>

namespace chorus::cli {

CLI::App* kv_app(CLI::App& root) {
  for (auto* existing : root.get_subcommands([](CLI::App* app) { return app->get_name() == "kv"; })) return existing;
  auto* kv = root.add_subcommand("kv", "KV-cache compression: inspect what a method keeps, evaluate methods");
  kv->require_subcommand(1);
  return kv;
}

namespace {

using nlohmann::json;

struct InspectArgs {
  std::string model, ids, method, selection = "per_head", device = "cpu", ratio_fit;
  std::optional<double> keep_ratio;
  double tau = 0.9;
  std::optional<int64_t> sinks, window;
  PressArgs press;
};

// Compactor's fitted quality model from `chorus calibrate compactor-ratio --out FILE`.
inference::RatioFit load_ratio_fit(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument("--ratio-fit " + file + ": cannot open; make it with `chorus calibrate compactor-ratio --out`");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw std::invalid_argument("--ratio-fit " + file + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("alpha") || !j.contains("beta") || !j["alpha"].is_number() || !j["beta"].is_number())
    throw std::invalid_argument("--ratio-fit " + file + ": expected numbers 'alpha' and 'beta' (the output of `chorus calibrate compactor-ratio`)");
  inference::RatioFit fit;
  fit.alpha = j["alpha"].get<double>();
  fit.beta = j["beta"].get<double>();
  return fit;
}

// Mean NLL (nats) of ids[1..] under the full cache: the context statistic Compactor's ratio depends on.
double context_nll(const inference::Model& model, const std::vector<int64_t>& ids) {
  if (ids.size() < 2) throw std::invalid_argument("--ratio-fit needs at least 2 ids to measure the context's NLL");
  auto cache = model.new_cache();
  auto logp = torch::log_softmax(model.forward(ids, cache).to(torch::kFloat64), -1);
  auto next = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.end()), torch::kInt64).unsqueeze(1);
  return -logp.narrow(0, 0, static_cast<int64_t>(ids.size()) - 1).gather(1, next).mean().item<double>();
}

json inspect(const InspectArgs& a) {
  const auto ids = parse_ids(a.ids, "--ids");
  auto model = inference::Model::load(a.model, load_options(a.device));
  inference::CompressionSettings s;
  s.method = a.method;
  json adaptive = nullptr;
  if (!a.ratio_fit.empty()) {
    if (a.keep_ratio) throw std::invalid_argument("give --keep-ratio or --ratio-fit, not both");
    const auto fit = load_ratio_fit(a.ratio_fit);
    const double nll = context_nll(*model, ids);
    s.keep_ratio = inference::compactor_keep_ratio(fit, nll, a.tau);
    adaptive = {{"context_nll", nll}, {"tau", a.tau}, {"b", fit.b(nll)}, {"alpha", fit.alpha}, {"beta", fit.beta}};
  } else if (a.keep_ratio) {
    s.keep_ratio = *a.keep_ratio;
  } else {
    throw std::invalid_argument("give --keep-ratio R, or --ratio-fit FILE to choose it per input (Compactor)");
  }
  s.press = press_options(a.method, a.press, model->config(), a.model);
  s.protect_first = a.sinks.value_or(0);
  s.protect_last = a.window.value_or(0);
  if (s.protect_first < 0 || s.protect_last < 0) throw std::invalid_argument("--sinks and --window must be >= 0");
  if (inference::canonical_press_name(a.method) == "streaming_llm") {
    s.press.n_sink = a.sinks.value_or(4);
    s.press.window = a.window.value_or(0);
  }
  if (a.selection == "shared") s.selection = inference::HeadSelection::shared;
  else if (a.selection != "per_head") throw std::invalid_argument("--selection must be per_head or shared");
  inference::PrefillCompressor compressor(s);
  auto cache = model->new_cache();
  model->forward(ids, cache, /*last_only=*/true, compressor.observer());
  const int64_t full_bytes =
      static_cast<int64_t>(ids.size()) * cache.num_layers() * cache.num_kv_heads() * (2 * cache.head_dim() * 4 + 8);
  json layers = json::array();
  for (int64_t l = 0; l < cache.num_layers(); ++l) {
    auto pos = cache.positions(l).to(torch::kCPU).contiguous();
    json kept = json::array();
    for (int64_t h = 0; h < pos.size(0); ++h) {
      const int64_t* p = pos[h].data_ptr<int64_t>();
      kept.push_back(std::vector<int64_t>(p, p + pos.size(1)));
    }
    layers.push_back({{"kept", kept}});
  }
  json out = {{"method", inference::canonical_press_name(a.method)},
          {"keep_ratio", s.keep_ratio},
          {"tokens", ids.size()},
          {"kv_bytes", cache.bytes()},
          {"kv_bytes_uncompressed", model->options().dtype == torch::kFloat32 ? json(full_bytes) : json(nullptr)},
          {"scoring_seconds", compressor.seconds()},
          {"layers", layers}};
  if (!adaptive.is_null()) out["adaptive_ratio"] = adaptive;
  return out;
}

void install_kv_command(CLI::App& root) {
  auto* kv = kv_app(root);
  static InspectArgs args;
  auto* cmd = kv->add_subcommand(
      "inspect", "Compress one prefill and print {\"layers\": [{\"kept\": [[positions of kv head 0], ...]}, ...]}");
  cmd->add_option("--model", args.model, "Model directory")->required();
  cmd->add_option("--ids", args.ids, "Comma-separated token ids, e.g. 1,2,3")->required();
  cmd->add_option("--method", args.method, "Press: knorm, streaming, snapkv, qfilters, compactor, leverage, "
                                            "noncausal_attn, random")->required();
  cmd->add_option("--keep-ratio", args.keep_ratio, "Fraction of the entries each KV head keeps, in (0, 1]");
  cmd->add_option("--ratio-fit", args.ratio_fit,
                  "Instead of --keep-ratio: Compactor's fitted quality model (JSON from `chorus calibrate "
                  "compactor-ratio --out`); the keep ratio is the smallest with predicted quality >= --tau for "
                  "this input's NLL");
  cmd->add_option("--tau", args.tau, "Quality target for --ratio-fit, in (0, 1]")->capture_default_str();
  cmd->add_option("--sinks", args.sinks, "First positions always kept (streaming: its sink count, default 4)");
  cmd->add_option("--window", args.window,
                  "Last positions always kept (streaming: its recent window; without it, streaming keeps the "
                  "sinks plus the newest entries up to the budget)");
  cmd->add_option("--selection", args.selection, "per_head (each KV head its own top entries) or shared (same "
                                                  "positions for all heads, scores averaged)")->capture_default_str();
  add_press_options(cmd, args.press);
  add_device_option(cmd, args.device);
  cmd->callback([] { run_reporting_errors("kv inspect", [] { std::cout << inspect(args).dump() << "\n"; }); });
}

}  // namespace

CHORUS_CLI_COMMAND(kv, 40, install_kv_command);

}  // namespace chorus::cli
