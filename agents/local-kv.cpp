#include "agents/local-kv.h"

#include "inference/qfilters-file.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <stdexcept>

namespace chorus::agents {

inference::PressOptions local_press_options(const LocalKvSettings& kv, const inference::ModelConfig& config) {
  inference::PressOptions o;
  if (kv.method == "qfilters") {
    torch::Tensor f;
    try {
      f = inference::load_stored_qfilters(kv.filters);
    } catch (const std::exception& e) {
      throw std::invalid_argument("llm.kv.filters: " + kv.filters.string() + ": " + e.what());
    }
    if (f.dim() != 3 || f.size(0) != config.num_layers || f.size(1) != config.num_kv_heads ||
        f.size(2) != config.head_dim)
      throw std::invalid_argument("llm.kv.filters: " + kv.filters.string() + " has shape " + c10::str(f.sizes()) +
                                  ", this model needs [" + std::to_string(config.num_layers) + ", " +
                                  std::to_string(config.num_kv_heads) + ", " + std::to_string(config.head_dim) +
                                  "]; calibrate filters for this model with `chorus calibrate qfilters`");
    o.filters = f;
    o.filters_stored = true;
  }
  if (kv.method == "compactor" || kv.method == "leverage") {
    constexpr int64_t sketch_dim = 48;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
    o.phi = torch::randn({config.num_kv_heads, config.head_dim, sketch_dim}, gen,
                         torch::TensorOptions().dtype(torch::kFloat64)) /
            std::sqrt(static_cast<double>(sketch_dim));
  }
  if (kv.method == "streaming_llm") {
    o.n_sink = kv.sinks.value_or(4);
    o.window = kv.window.value_or(0);
  }
  return o;
}

LocalKvRun::LocalKvRun(const LocalKvSettings& kv, const inference::PressOptions& press, int64_t num_layers,
                       int64_t prompt_tokens)
    : num_layers_(num_layers) {
  const bool too_short = kv.method == "snapkv" && prompt_tokens <= press.snapkv_window;
  if (kv.keep_ratio && !too_short) {
    inference::CompressionSettings s;
    s.method = kv.method;
    s.press = press;
    s.keep_ratio = *kv.keep_ratio;
    s.protect_first = kv.sinks.value_or(0);
    s.protect_last = kv.window.value_or(0);
    compressor_.emplace(s);
    compress_ = compressor_->observer();
  }
  if (kv.cap) {
    inference::StreamingSettings s;
    s.method = kv.method;
    s.press = press;
    s.max_entries = *kv.cap;
    s.window = kv.window.value_or(0);
    s.protect_first = kv.sinks.value_or(0);
    evictor_.emplace(s);
    evict_ = evictor_->observer();
  }
}

inference::LayerObserver LocalKvRun::observer() {
  if (!compress_ && !evict_) return nullptr;
  return [this](const inference::LayerActivations& a, inference::KvCache& cache) {
    const bool prefill = calls_ < num_layers_;  // the first forward calls the observer once per layer
    ++calls_;
    if (prefill && compress_) compress_(a, cache);
    if (evict_) evict_(a, cache);
  };
}

}  // namespace chorus::agents
