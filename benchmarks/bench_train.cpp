// bench_train: one training step (loss, backward) of the bundled model's architecture on a batch shaped like
// stage C of scripts/train-chorus-tiny: 16 examples (tool questions of ~400 tokens with 40% targets, sessions
// of ~500 with 23%, two passkey documents of 1.2K and 2.1K tokens with a handful, a short copy document),
// packed first-fit into rows of 2,176 tokens.
//
// Baseline in the same process: the same 16 examples trained one at a time (one row each, no padding, no
// packing; the loss scaled so that the summed gradients equal the packed step's), the work a packed step
// should not exceed. Reported: tokens per second of both and the ratio.
//
// Usage: bench_train [--reps 5] [--threads 1]
#include "benchmarks/bench-util.h"
#include "training/llama-trainer.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

using namespace chorus;

namespace {

// `n` tokens of a 3,200-token vocabulary; every `target_every`-th token after the first third is a target (0:
// the last 4 tokens only, as a passkey's answer).
training::TrainExample example(int64_t n, int target_every, uint32_t seed) {
  training::TrainExample e;
  uint32_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    e.ids.push_back(static_cast<int64_t>((s >> 8) % 3200));
  }
  e.mask.assign(static_cast<size_t>(n), 0);
  if (target_every == 0) {
    for (int64_t t = n - 4; t < n; ++t) e.mask[static_cast<size_t>(t)] = 1;
  } else {
    for (int64_t t = n / 3; t < n; t += target_every) e.mask[static_cast<size_t>(t)] = 1;
  }
  return e;
}

std::vector<training::TrainExample> stage_c_group() {
  std::vector<training::TrainExample> out;
  uint32_t seed = 1;
  for (int64_t n : {380, 420, 350, 440, 400, 390, 410}) out.push_back(example(n, 2, seed++));  // ~40% targets
  for (int64_t n : {480, 530, 510, 470, 520, 540}) out.push_back(example(n, 3, seed++));       // ~23%
  out.push_back(example(1200, 0, seed++));
  out.push_back(example(2100, 0, seed++));
  out.push_back(example(75, 4, seed++));
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  const int reps = std::stoi(bench::arg_value(argc, argv, "reps", "5"));
  const int threads = std::stoi(bench::arg_value(argc, argv, "threads", "1"));
  torch::set_num_threads(threads);
  auto config = training::LlamaTrainerConfig::preset("small");
  config.vocab_size = 3200;
  config.max_position_embeddings = 2176;
  training::LlamaTrainer model(config, 1);
  const auto examples = stage_c_group();
  std::vector<const training::TrainExample*> group;
  int64_t tokens = 0;
  for (const auto& e : examples) {
    group.push_back(&e);
    tokens += static_cast<int64_t>(e.ids.size());
  }
  const auto packed = training::make_batch(group, 2176, true);
  std::vector<training::TrainBatch> alone;
  for (const auto* e : group) alone.push_back(training::make_batch({e}, 2176, false));

  auto step = [&](const std::vector<const training::TrainBatch*>& batches) {
    for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
    for (const auto* b : batches)
      (model.loss(*b) * (static_cast<double>(b->targets) / packed.targets)).backward();
  };
  std::vector<const training::TrainBatch*> one_by_one;
  for (const auto& b : alone) one_by_one.push_back(&b);
  auto measure = [&](const std::vector<const training::TrainBatch*>& batches) {
    return bench::median(bench::time_reps(reps, 1, [&] { step(batches); }));
  };

  std::printf(
      "bench_train: %lld parameters, %zu examples, %lld tokens (%lld targets), packed into %lld rows of "
      "%lld; threads %d, reps %d, load %.2f\n",
      static_cast<long long>(config.parameter_count()), examples.size(), static_cast<long long>(tokens),
      static_cast<long long>(packed.targets), static_cast<long long>(packed.ids.size(0)),
      static_cast<long long>(packed.ids.size(1)), threads, reps, bench::load_average());
  const double base = measure(one_by_one);
  const double packed_step = measure({&packed});
  auto line = [&](const char* what, double s) {
    std::printf("  %-40s %7.3f s  %6.0f tok/s  %.2fx the baseline\n", what, s, tokens / s, base / s);
  };
  line("baseline: the examples one at a time", base);
  line("packed rows", packed_step);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_train: %s\n", e.what());
  return 1;
}
