#pragma once
// Held-out target loss broken down by curriculum task and by position inside each run of target tokens: the
// measurement that tells copying by content (every position low) from guessing a run's first token (position 1
// high). `chorus train score` prints it.
#include "training/llama-trainer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace chorus::training {

// One task's (or all examples') target loss, in nats per target token.
struct TargetLossRow {
  std::string task;                     // "all" for the first row of a report
  int64_t examples = 0;
  int64_t targets = 0;
  double loss = 0;                      // mean over all its target tokens
  std::vector<double> position_loss;    // [k]: mean over the k-th target token of each run (last: k-th and later)
  std::vector<int64_t> position_count;  // [k]: how many tokens position_loss[k] averages
};

// The rows of a scoring: "all" first, then one row per task in order of first appearance.
struct TargetLossReport {
  std::vector<TargetLossRow> rows;
  nlohmann::json to_json() const;
  // A fixed-width text table: task, examples, targets, loss, then one column per position ("1", "2", ..., "K+").
  std::string table() const;
};

// Scores `examples` one at a time (each cut to seq_len tokens) with `positions` >= 1 position buckets. A target
// run is a maximal stretch of mask = 1 tokens; token t is predicted from position t - 1, as in training (a target
// at t = 0 has no prediction and is skipped). Throws std::invalid_argument for positions < 1 or seq_len < 2.
TargetLossReport score_targets(const LlamaTrainer& model, const std::vector<TrainExample>& examples, int64_t positions,
                               int64_t seq_len);

}  // namespace chorus::training
