// bench_model: prefill and decode speed of Model on CPU (f32 compute) for a random ~100M-parameter
// Llama-shaped model (12 layers, hidden 768, 12 heads, 4 KV heads, intermediate 2048, vocab 32000, bf16
// checkpoint), at several context lengths.
//
// Baseline in the same process: a libtorch weight-streaming probe, torch::linear of one [1, in] f32 row
// through freshly allocated f32 matrices of every weight shape the model multiplies by per token (q, k, v, o,
// gate, up, down per layer, and lm_head): the minimal per-token cost of reading the weights once. Each decode
// step is reported as a multiple of that floor.
//
// Usage: bench_model [--contexts 1,512,2048] [--decode 32] [--prefill-reps 3] [--floor-reps 20]
//                    [--model DIR] [--threads N] [--shared DIR]
// Without --model the model is generated once (make_tiny_model.py, ~5 s) into
// $CHORUS_BENCH_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/chorus-bench)/llama-100m-bf16 and reused.
#include "benchmarks/bench-util.h"
#include "inference/model.h"

#include <torch/torch.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace chorus;

namespace {

fs::path ensure_model(const fs::path& shared) {
  return bench::ensure_model(shared, "llama-100m-bf16",
                             "--arch llama --layers 12 --hidden 768 --heads 12 --kv-heads 4 --intermediate 2048 --vocab 32000 --dtype bf16 --max-pos 4096 --seed 0");
}

// One [out, in] f32 matrix per weight the model multiplies a token's activations by.
struct Probe {
  std::vector<torch::Tensor> weights;
  int64_t parameters = 0;
};

Probe make_probe(const inference::ModelConfig& c) {
  Probe p;
  const int64_t hd = c.head_dim;
  auto add = [&](int64_t out, int64_t in) {
    p.weights.push_back(torch::randn({out, in}, torch::kFloat32) * 0.02);
    p.parameters += out * in;
  };
  for (int64_t i = 0; i < c.num_layers; ++i) {
    add(c.num_heads * hd, c.hidden_size);                // q
    add(c.num_kv_heads * hd, c.hidden_size);             // k
    add(c.num_kv_heads * hd, c.hidden_size);             // v
    add(c.hidden_size, c.num_heads * hd);                // o
    add(c.intermediate_size, c.hidden_size);             // gate
    add(c.intermediate_size, c.hidden_size);             // up
    add(c.hidden_size, c.intermediate_size);             // down
  }
  add(c.vocab_size, c.hidden_size);                      // lm_head
  return p;
}

// One pass of a [1, in] row through every probe matrix (inputs of every width prepared up front).
void stream_weights(const Probe& p) {
  torch::NoGradGuard no_grad;
  static thread_local std::vector<torch::Tensor> inputs;
  for (const auto& w : p.weights) {
    const int64_t in = w.size(1);
    torch::Tensor* x = nullptr;
    for (auto& t : inputs)
      if (t.size(1) == in) x = &t;
    if (!x) {
      inputs.push_back(torch::randn({1, in}, torch::kFloat32));
      x = &inputs.back();
    }
    auto y = torch::linear(*x, w);
    (void)y;
  }
}

std::vector<int64_t> prompt_ids(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(3, vocab - 1);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

}  // namespace

int main(int argc, char** argv) try {
  const fs::path shared = bench::arg_value(argc, argv, "shared", CHORUS_SHARED_DIR);
  const auto contexts = bench::parse_list(bench::arg_value(argc, argv, "contexts", "1,512,2048"));
  const int decode_steps = std::stoi(bench::arg_value(argc, argv, "decode", "32"));
  const int prefill_reps = std::stoi(bench::arg_value(argc, argv, "prefill-reps", "3"));
  const int floor_reps = std::stoi(bench::arg_value(argc, argv, "floor-reps", "20"));
  if (const auto t = bench::arg_value(argc, argv, "threads", ""); !t.empty()) torch::set_num_threads(std::stoi(t));
  const std::string model_arg = bench::arg_value(argc, argv, "model", "");
  const fs::path model_dir = model_arg.empty() ? ensure_model(shared) : fs::path(model_arg);

  std::unique_ptr<inference::Model> model;
  const double load_s = bench::time_once([&] { model = inference::Model::load(model_dir); });
  const auto& c = model->config();
  std::printf("bench_model: %s\n", model_dir.c_str());
  std::printf("  %.1fM parameters (%s checkpoint, f32 compute on CPU), %lld layers, hidden %lld, heads %lld/%lld, "
              "intermediate %lld, vocab %lld; loaded in %.2f s\n",
              static_cast<double>(model->parameter_count()) / 1e6, model->checkpoint_dtype().c_str(),
              static_cast<long long>(c.num_layers), static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.num_heads), static_cast<long long>(c.num_kv_heads),
              static_cast<long long>(c.intermediate_size), static_cast<long long>(c.vocab_size), load_s);
  std::printf("  torch::get_num_threads() = %d (hardware threads %u); load average %.2f\n", torch::get_num_threads(),
              std::thread::hardware_concurrency(), bench::load_average());

  // Baseline: the weight-streaming floor.
  const Probe probe = make_probe(c);
  const auto floor_samples = bench::time_reps(floor_reps, 3, [&] { stream_weights(probe); });
  const double floor_s = bench::median(floor_samples);
  const double probe_bytes = static_cast<double>(probe.parameters) * 4;
  std::printf("  weight-streaming floor: %.1fM f32 weights (%.0f MB) per token, median %.2f ms "
              "(%.1f GB/s, %.1f tokens/s)\n",
              static_cast<double>(probe.parameters) / 1e6, probe_bytes / 1e6, floor_s * 1e3,
              probe_bytes / floor_s / 1e9, 1 / floor_s);

  for (const int64_t ctx : contexts) {
    const auto ids = prompt_ids(ctx, c.vocab_size, static_cast<uint32_t>(ctx));
    // Prefill: a fresh cache, the whole prompt in one forward (last position's logits, as generate() does).
    std::vector<double> prefill_samples;
    torch::Tensor logits;
    auto cache = model->new_cache();
    for (int r = 0; r < prefill_reps; ++r) {
      cache = model->new_cache();
      prefill_samples.push_back(bench::time_once([&] { logits = model->forward(ids, cache, true); }));
    }
    const double prefill_s = bench::median(prefill_samples);
    const double prefill_tps = static_cast<double>(ctx) / prefill_s;

    // Decode: greedy, one token per forward through the KV cache, after the context above.
    std::vector<double> steps;
    int64_t next = logits.argmax(-1).item<int64_t>();
    for (int i = 0; i < decode_steps; ++i) {
      steps.push_back(bench::time_once([&] { logits = model->forward({next}, cache, true); }));
      next = logits.argmax(-1).item<int64_t>();
    }
    double total = 0;
    for (double s : steps) total += s;
    const double step_s = bench::median(steps);
    const double decode_tps = static_cast<double>(decode_steps) / total;

    std::printf("\n[context %lld]\n", static_cast<long long>(ctx));
    std::printf("  prefill %lld tokens: median %.1f ms of %d -> %.1f tokens/s\n", static_cast<long long>(ctx),
                prefill_s * 1e3, prefill_reps, prefill_tps);
    std::printf("  decode %d tokens after %lld: %.1f tokens/s (step median %.2f ms, mean %.2f ms)\n", decode_steps,
                static_cast<long long>(ctx), decode_tps, step_s * 1e3, total / decode_steps * 1e3);
    std::printf("  decode step / weight-streaming floor = %.1fx\n", step_s / floor_s);
    std::printf("  prefill tokens/s / decode tokens/s = %.1fx\n", prefill_tps / decode_tps);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_model: %s\n", e.what());
  return 1;
}
