// chorus kv inspect: one prefill compression of a token sequence, printed as the positions each KV head keeps.
#include "cli/kv-command.h"

#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/kv-args.h"
#include "inference/kv-compressor.h"
#include "inference/model.h"

#include <nlohmann/json.hpp>

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
  std::string model, ids, method, selection = "per_head", device = "cpu";
  double keep_ratio = 1.0;
  std::optional<int64_t> sinks, window;
  PressArgs press;
};

json inspect(const InspectArgs& a) {
  const auto ids = parse_ids(a.ids, "--ids");
  auto model = inference::Model::load(a.model, load_options(a.device));
  inference::CompressionSettings s;
  s.method = a.method;
  s.keep_ratio = a.keep_ratio;
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
  return {{"method", inference::canonical_press_name(a.method)},
          {"keep_ratio", a.keep_ratio},
          {"tokens", ids.size()},
          {"kv_bytes", cache.bytes()},
          {"kv_bytes_uncompressed", model->options().dtype == torch::kFloat32 ? json(full_bytes) : json(nullptr)},
          {"scoring_seconds", compressor.seconds()},
          {"layers", layers}};
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
  cmd->add_option("--keep-ratio", args.keep_ratio, "Fraction of the entries each KV head keeps, in (0, 1]")->required();
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
