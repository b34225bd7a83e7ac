#include "cli/kv-args.h"

#include "inference/qfilters-file.h"
#include "inference/tensor-file.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace chorus::cli {

void add_press_options(CLI::App* app, PressArgs& args) {
  app->add_option("--filters", args.filters,
                  "Q-Filters safetensors file [layers, kv_heads, head_dim] as `chorus calibrate qfilters` and the "
                  "paper's published filters store them (default: MODEL/q_filters.safetensors)");
  app->add_option("--sketch", args.sketch,
                  "compactor/leverage: safetensors file with tensor 'phi' [kv_heads, head_dim, k] or [head_dim, k] "
                  "(default: a Gaussian sketch drawn from --seed)");
  app->add_option("--sketch-dim", args.sketch_dim, "compactor/leverage: k of the default sketch")->capture_default_str();
  app->add_option("--seed", args.seed, "Seed of the random press and of the default sketch")->capture_default_str();
}

std::filesystem::path default_filters_path(const std::filesystem::path& model_dir) {
  return model_dir / "q_filters.safetensors";
}

inference::PressOptions press_options(const std::string& method_name, const PressArgs& args,
                                      const inference::ModelConfig& config, const std::filesystem::path& model_dir) {
  inference::PressOptions o;
  o.seed = args.seed;
  const std::string method = inference::canonical_press_name(method_name);
  if (method == "qfilters") {
    std::filesystem::path file = args.filters.empty() ? default_filters_path(model_dir) : std::filesystem::path(args.filters);
    if (!std::filesystem::exists(file))
      throw std::invalid_argument("qfilters needs filters: " + file.string() +
                                  " does not exist; pass --filters FILE or make one with `chorus calibrate qfilters`");
    auto f = inference::load_stored_qfilters(file);
    if (f.dim() != 3 || f.size(0) != config.num_layers || f.size(1) != config.num_kv_heads ||
        f.size(2) != config.head_dim)
      throw std::invalid_argument(file.string() + ": filters have shape " + c10::str(f.sizes()) + ", this model needs [" +
                                  std::to_string(config.num_layers) + ", " + std::to_string(config.num_kv_heads) +
                                  ", " + std::to_string(config.head_dim) + "]; calibrate filters for this model");
    o.filters = f;
    o.filters_stored = true;
  }
  if (method == "compactor" || method == "leverage") {
    if (!args.sketch.empty()) {
      auto phi = inference::read_tensor(args.sketch, "phi").to(torch::kFloat64);
      const bool ok = (phi.dim() == 2 && phi.size(0) == config.head_dim) ||
                      (phi.dim() == 3 && phi.size(0) == config.num_kv_heads && phi.size(1) == config.head_dim);
      if (!ok)
        throw std::invalid_argument(args.sketch + ": 'phi' must be [kv_heads, head_dim, k] or [head_dim, k] with head_dim " +
                                    std::to_string(config.head_dim));
      o.phi = phi;
    } else {
      if (args.sketch_dim <= 0) throw std::invalid_argument("--sketch-dim must be > 0");
      auto gen = at::make_generator<at::CPUGeneratorImpl>(args.seed);
      o.phi = torch::randn({config.num_kv_heads, config.head_dim, args.sketch_dim}, gen,
                           torch::TensorOptions().dtype(torch::kFloat64)) /
              std::sqrt(static_cast<double>(args.sketch_dim));
    }
  }
  return o;
}

std::vector<std::string> parse_names(const std::string& text, const std::string& option) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  if (out.empty()) throw std::invalid_argument(option + ": expected a comma-separated list");
  return out;
}

std::vector<double> parse_numbers(const std::string& text, const std::string& option) {
  std::vector<double> out;
  for (const auto& item : parse_names(text, option)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(v))
      throw std::invalid_argument(option + ": '" + item + "' is not a number");
    out.push_back(v);
  }
  return out;
}

}  // namespace chorus::cli
