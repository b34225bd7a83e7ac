#pragma once
// The training loop for LlamaTrainer: AdamW, warmup + cosine schedule, clipping, seeded batches, evaluation,
// checkpoints, time limit.
//
// Choices (documented here, the one place):
// - Optimizer: torch::optim::AdamW, betas (0.9, 0.95), eps 1e-8. Weight decay (0.1) applies to the projection
//   matrices only (attention and MLP weights, and an untied lm_head); embeddings, norms and biases get none.
// - Schedule: linear warmup from lr/warmup to lr over `warmup` steps, then cosine decay to min_lr_ratio * lr
//   (10%) at the last step. Gradient norm clipped to grad_clip (1.0).
// - Batches: every epoch the training examples are shuffled with a generator seeded by (seed, epoch), then cut
//   into consecutive groups of `batch` examples (the last partial group is dropped unless the epoch has fewer
//   examples than `batch`). Each example is truncated to seq_len tokens. With pack = true (default), consecutive
//   whole examples of a group share rows of seq_len tokens (attention and positions stay per example, so the math
//   equals unpacked rows); a group of `batch` examples thus fills ceil(total/seq_len)-ish rows, fewer padded
//   tokens. With pack = false, one example per row, padded to the group's longest. The batch of step s depends
//   only on (seed, s, the data), so a resumed run sees the batches an uninterrupted run would.
// - Loss: mean cross entropy over the group's target tokens (mask = 1), predicting token t+1 from position t. With
//   context_loss_weight w > 0 the training objective also counts every other token of each example with weight w
//   (a weighted mean; the logged training loss is that objective); evaluation always scores the targets alone.
// - Checkpoints (checkpoint_every > 0): checkpoint_dir gets the model in HF layout in float32 (save_hf), plus
//   optimizer.pt (torch::save of the AdamW state) and trainer_state.json ({"step", "seed", ...}). Resume with
//   LlamaTrainer::load_checkpoint(dir) and TrainOptions::resume_from = dir: the loop restores the optimizer state
//   and continues at step + 1 with the same schedule and batches. On the same device and thread count the losses
//   then match an uninterrupted run exactly (float32 weights and moments are stored bit-exact).
#include "training/llama-trainer.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chorus::training {

// Reads a JSONL file of {"ids": [...], "mask": [...], "task": "..."} lines (mask optional: all ones; task optional;
// blank lines skipped).
// Throws std::runtime_error naming the file and line for bad JSON, missing/odd fields, length mismatch, ids
// outside [0, vocab_size) (vocab_size <= 0: unchecked) or an empty file.
std::vector<TrainExample> read_examples_jsonl(const std::filesystem::path& path, int64_t vocab_size);

struct StepInfo {
  int64_t step = 0;               // 1-based
  double loss = 0;
  double lr = 0;
  double grad_norm = 0;           // before clipping
  int64_t tokens = 0;             // real tokens this step
  int64_t targets = 0;            // tokens counted in the loss this step
  double tokens_per_second = 0;   // real tokens / wall time of this step
  double elapsed_seconds = 0;     // since the loop started (this run)
};

struct EvalInfo {
  int64_t step = 0;
  double loss = 0;       // target-weighted mean over the evaluation examples
  int64_t targets = 0;
};

struct TrainOptions {
  int64_t steps = 1000;        // the schedule's length (warmup + cosine span these steps)
  int64_t stop_after = 0;      // > 0: stop after this step although the schedule spans `steps` (sessions)
  int64_t batch = 8;           // examples per step
  int64_t seq_len = 512;       // longest row (examples are cut to this)
  bool pack = true;
  double lr = 1e-3;
  int64_t warmup = 100;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.1;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double grad_clip = 1.0;      // <= 0: no clipping
  double context_loss_weight = 0;  // > 0: training also predicts the non-target tokens, with this weight (eval: targets only)
  uint64_t seed = 0;
  double max_minutes = 0;      // > 0: stop (after the running step) once exceeded
  int threads = 0;             // > 0: torch::set_num_threads
  int64_t eval_every = 0;      // > 0: evaluate every N steps (and at the end) when eval examples are given
  int64_t eval_max_examples = 0;  // > 0: evaluate only the first N evaluation examples
  int64_t checkpoint_every = 0;   // > 0: checkpoint every N steps (and at the end) into checkpoint_dir
  std::filesystem::path checkpoint_dir;
  std::filesystem::path resume_from;  // a checkpoint dir: restore optimizer.pt + trainer_state.json
  std::function<void(const StepInfo&)> on_step;
  std::function<void(const EvalInfo&)> on_eval;
  std::function<void(int64_t step, const std::filesystem::path&)> on_checkpoint;
};

struct TrainResult {
  int64_t first_step = 1;        // > 1 when resumed
  int64_t last_step = 0;         // the last step run (0: none)
  double last_loss = 0;
  std::optional<double> last_eval_loss;
  int64_t tokens = 0;            // real tokens trained on in this run
  double seconds = 0;
  std::string stop_reason;       // "steps", "stop_after" or "time"
};

// The learning rate of 1-based `step` for these options.
double learning_rate(const TrainOptions& options, int64_t step);
// Mean loss over `examples` (no gradients), batched as training does.
EvalInfo evaluate(const LlamaTrainer& model, const std::vector<TrainExample>& examples, const TrainOptions& options);
// Trains `model` in place. Throws std::invalid_argument for bad options, std::runtime_error for I/O problems.
TrainResult train(LlamaTrainer& model, const std::vector<TrainExample>& train_examples,
                  const std::vector<TrainExample>& eval_examples, const TrainOptions& options);

}  // namespace chorus::training
