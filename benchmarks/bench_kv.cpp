// bench_kv: what KV compression costs and saves per decode step on CPU (f32 compute), for a random Llama-shaped
// model (default 8 layers, hidden 512, 8 heads, 4 KV heads, head_dim 64, intermediate 1536, vocab 32000).
//
// Per context length C (default 512, 1024, 2048, 4096):
//   (a) full cache: prefill C tokens, then decode steps through the full cache (the baseline of this context);
//   (b) prefill compressed x8 (PrefillCompressor, keep 1/8) with knorm and with qfilters (random filters), then
//       decode steps through the compressed cache: step time against (a) at C and against (a) at the shortest C;
//   (c) a StreamingEvictor with cap C/8 (window 16, 4 sinks) during decode: knorm and qfilters continue from (b)'s
//       compressed cache, streaming from (a)'s full cache (its first step evicts down to the cap and is a warm-up).
//       Reported: the evictor's seconds (scoring + selection + compaction) per step as a share of the step.
// Every ratio is against a baseline measured in this process (docs/benchmarks.md). Decode steps are greedy
// forwards of one token; each phase runs --warmup steps untimed, then --steps timed steps (median reported).
//
// Usage: bench_kv [--contexts 512,1024,2048,4096] [--steps 24] [--warmup 2] [--model DIR] [--threads N]
//                 [--shared DIR]
// Without --model the model is generated once (make_tiny_model.py) into
// $CHORUS_BENCH_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/chorus-bench)/llama-57m-kv-bf16 and reused.
#include "benchmarks/bench-util.h"
#include "inference/kv-compressor.h"
#include "inference/kv-evictor.h"
#include "inference/model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using namespace chorus;

namespace {

fs::path ensure_model(const fs::path& shared) {
  return bench::ensure_model(shared, "llama-57m-kv-bf16",
                             "--arch llama --layers 8 --hidden 512 --heads 8 --kv-heads 4 --intermediate 1536 --vocab 32000 --dtype bf16 --max-pos 8192 --seed 0");
}

std::vector<int64_t> prompt_ids(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> dist(3, vocab - 1);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

// Decode timing of one phase: median step, and the evictor's share when one observed the steps.
struct Decode {
  double step_s = 0;          // median step seconds
  double evict_s = 0;         // median evictor seconds per step (0 without an evictor)
  double evict_share = 0;     // evictor seconds / step seconds, summed over the timed steps
  int64_t entries = 0;        // entries per layer and KV head after the phase (layer 0)
};

// Greedy decode steps continuing `cache` from `logits`; the evictor (if any) observes every step.
Decode decode(const inference::Model& model, inference::KvCache& cache, torch::Tensor& logits, int warmup, int steps,
              inference::StreamingEvictor* evictor) {
  const inference::LayerObserver observer = evictor ? evictor->observer() : inference::LayerObserver();
  std::vector<double> step_s, evict_s;
  double step_total = 0, evict_total = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    const int64_t next = logits.argmax(-1).item<int64_t>();
    const double before = evictor ? evictor->seconds() : 0;
    const double s = bench::time_once([&] { logits = model.forward({next}, cache, true, observer); });
    const double e = evictor ? evictor->seconds() - before : 0;
    if (i < warmup) continue;
    step_s.push_back(s);
    evict_s.push_back(e);
    step_total += s;
    evict_total += e;
  }
  return {bench::median(step_s), bench::median(evict_s), step_total > 0 ? evict_total / step_total : 0, cache.size(0)};
}

struct Prefill {
  double seconds = 0;       // the whole prefill forward
  double compress_s = 0;    // of which the compressor's scoring + selection + compaction
};

Prefill prefill(const inference::Model& model, inference::KvCache& cache, const std::vector<int64_t>& ids,
                torch::Tensor& logits, inference::PrefillCompressor* compressor) {
  const inference::LayerObserver observer = compressor ? compressor->observer() : inference::LayerObserver();
  Prefill p;
  p.seconds = bench::time_once([&] { logits = model.forward(ids, cache, true, observer); });
  p.compress_s = compressor ? compressor->seconds() : 0;
  return p;
}

}  // namespace

int main(int argc, char** argv) try {
  torch::NoGradGuard no_grad;
  const fs::path shared = bench::arg_value(argc, argv, "shared", CHORUS_SHARED_DIR);
  const auto contexts = bench::parse_list(bench::arg_value(argc, argv, "contexts", "512,1024,2048,4096"));
  const int steps = std::stoi(bench::arg_value(argc, argv, "steps", "24"));
  const int warmup = std::stoi(bench::arg_value(argc, argv, "warmup", "2"));
  if (const auto t = bench::arg_value(argc, argv, "threads", ""); !t.empty()) torch::set_num_threads(std::stoi(t));
  const std::string model_arg = bench::arg_value(argc, argv, "model", "");
  const fs::path model_dir = model_arg.empty() ? ensure_model(shared) : fs::path(model_arg);
  if (contexts.empty() || steps < 1 || warmup < 1) throw std::invalid_argument("need contexts, --steps >= 1, --warmup >= 1");

  const auto run_start = bench::Clock::now();
  std::unique_ptr<inference::Model> model;
  const double load_s = bench::time_once([&] { model = inference::Model::load(model_dir); });
  const auto& c = model->config();
  std::printf("bench_kv: %s\n", model_dir.c_str());
  std::printf("  %.1fM parameters (%s checkpoint, f32 compute on CPU), %lld layers, hidden %lld, heads %lld/%lld, "
              "head_dim %lld, intermediate %lld, vocab %lld; loaded in %.2f s\n",
              static_cast<double>(model->parameter_count()) / 1e6, model->checkpoint_dtype().c_str(),
              static_cast<long long>(c.num_layers), static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.num_heads), static_cast<long long>(c.num_kv_heads),
              static_cast<long long>(c.head_dim), static_cast<long long>(c.intermediate_size),
              static_cast<long long>(c.vocab_size), load_s);
  std::printf("  torch::get_num_threads() = %d (hardware threads %u); load average %.2f; %d warm-up + %d timed "
              "decode steps per phase\n",
              torch::get_num_threads(), std::thread::hardware_concurrency(), bench::load_average(), warmup, steps);

  // Random Q-Filters (timing only): [layers, kv_heads, head_dim].
  auto gen = torch::make_generator<at::CPUGeneratorImpl>(0);
  const auto filters = torch::randn({c.num_layers, c.num_kv_heads, c.head_dim}, gen, torch::kFloat32);
  auto press_for = [&](const std::string& method) {
    inference::PressOptions o;
    if (method == "qfilters") o.filters = filters;
    return o;
  };
  const std::vector<std::string> methods = {"knorm", "qfilters"};
  const double keep = 1.0 / 8;

  double short_full_step = 0;
  struct Row {
    int64_t context;
    Decode full, streaming;
    Prefill full_prefill;
    std::map<std::string, Decode> compressed, evicted;
    std::map<std::string, Prefill> prefills;
  };
  std::vector<Row> rows;
  for (const int64_t ctx : contexts) {
    Row row{ctx, {}, {}, {}, {}, {}, {}};
    const auto ids = prompt_ids(ctx, c.vocab_size, static_cast<uint32_t>(ctx));
    const int64_t cap = std::max<int64_t>(ctx / 8, 32);
    inference::StreamingSettings ev;
    ev.max_entries = cap;
    ev.window = 16;
    ev.protect_first = 4;

    {  // (a) full cache, then (c) streaming eviction continuing from it
      auto cache = model->new_cache();
      torch::Tensor logits;
      row.full_prefill = prefill(*model, cache, ids, logits, nullptr);
      row.full = decode(*model, cache, logits, warmup, steps, nullptr);
      auto s = ev;
      s.method = "streaming";
      inference::StreamingEvictor evictor(s);
      row.streaming = decode(*model, cache, logits, warmup, steps, &evictor);
    }
    if (rows.empty()) short_full_step = row.full.step_s;
    for (const auto& m : methods) {  // (b) prefill-compressed x8, then (c) the same press evicting at the cap
      inference::CompressionSettings cs;
      cs.method = m;
      cs.press = press_for(m);
      cs.keep_ratio = keep;
      inference::PrefillCompressor compressor(cs);
      auto cache = model->new_cache();
      torch::Tensor logits;
      row.prefills[m] = prefill(*model, cache, ids, logits, &compressor);
      row.compressed[m] = decode(*model, cache, logits, warmup, steps, nullptr);
      auto s = ev;
      s.method = m;
      s.press = press_for(m);
      inference::StreamingEvictor evictor(s);
      row.evicted[m] = decode(*model, cache, logits, warmup, steps, &evictor);
    }

    std::printf("\n[context %lld] (cap for eviction: %lld entries per layer and KV head)\n", static_cast<long long>(ctx),
                static_cast<long long>(cap));
    std::printf("  (a) full cache: prefill %.2f s; decode step median %.2f ms (%lld entries)\n",
                row.full_prefill.seconds, row.full.step_s * 1e3, static_cast<long long>(row.full.entries));
    for (const auto& m : methods) {
      const auto& d = row.compressed[m];
      const auto& p = row.prefills[m];
      std::printf("  (b) %-8s x8 prefill: %.2f s (compression %.1f ms = %.2f%% of it); decode step median %.2f ms "
                  "(%lld entries): %.2fx the full step at %lld, %.2fx the full step at %lld\n",
                  m.c_str(), p.seconds, p.compress_s * 1e3, 100 * p.compress_s / p.seconds, d.step_s * 1e3,
                  static_cast<long long>(d.entries), d.step_s / row.full.step_s, static_cast<long long>(ctx),
                  d.step_s / short_full_step, static_cast<long long>(contexts.front()));
    }
    auto print_evictor = [&](const std::string& name, const Decode& d) {
      std::printf("  (c) %-9s evictor (cap %lld): step median %.2f ms, evictor median %.3f ms/step = %.2f%% of the "
                  "step (sum %.2f%%)\n",
                  name.c_str(), static_cast<long long>(cap), d.step_s * 1e3, d.evict_s * 1e3,
                  100 * d.evict_s / d.step_s, 100 * d.evict_share);
    };
    for (const auto& m : methods) print_evictor(m, row.evicted[m]);
    print_evictor("streaming", row.streaming);
    std::fflush(stdout);
    rows.push_back(row);
  }

  // Summary as Markdown (the table docs/benchmarks.md records).
  std::printf("\n| context | full step ms | knorm x8 step ms (/full, /full@%lld) | qfilters x8 step ms (/full, /full@%lld) "
              "| evictor share of step: knorm / qfilters / streaming |\n",
              static_cast<long long>(contexts.front()), static_cast<long long>(contexts.front()));
  std::printf("| ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& r : rows) {
    const auto& k = r.compressed.at("knorm");
    const auto& q = r.compressed.at("qfilters");
    std::printf("| %lld | %.2f | %.2f (%.2fx, %.2fx) | %.2f (%.2fx, %.2fx) | %.2f%% / %.2f%% / %.2f%% |\n",
                static_cast<long long>(r.context), r.full.step_s * 1e3, k.step_s * 1e3, k.step_s / r.full.step_s,
                k.step_s / short_full_step, q.step_s * 1e3, q.step_s / r.full.step_s, q.step_s / short_full_step,
                100 * r.evicted.at("knorm").evict_s / r.evicted.at("knorm").step_s,
                100 * r.evicted.at("qfilters").evict_s / r.evicted.at("qfilters").step_s,
                100 * r.streaming.evict_s / r.streaming.step_s);
  }
  std::printf("\ntotal %.1f s; load average %.2f\n", bench::seconds_since(run_start), bench::load_average());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_kv: %s\n", e.what());
  return 1;
}
