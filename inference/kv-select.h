#pragma once
// Selection of the KV entries to keep from a press's scores, with a deterministic tie rule.
#include <torch/torch.h>

#include <cstdint>

namespace chorus::inference {

// Kept indices [n_kv, k] int64, each row ascending, from scores [n_kv, T]. Per head: the `keep_count`
// highest scores, ties to the lower position. Global (per_head = false): n_kv*keep_count (head, position)
// pairs ranked together, ties to the lower head then position; rows padded with -1 to the longest row.
// The first `protect_first` and last `protect_last` positions are always kept and count toward the budget.
torch::Tensor select_kept(const torch::Tensor& scores, int64_t keep_count, bool per_head = true,
                          int64_t protect_first = 0, int64_t protect_last = 0);
// Per head, the one index select_kept(scores, T - 1, true, protect_first, protect_last) drops: the lowest score,
// ties to the higher position. [n_kv] int64; needs T > protect_first + protect_last.
torch::Tensor lowest_scored(const torch::Tensor& scores, int64_t protect_first = 0, int64_t protect_last = 0);
// The same rule on one head's T scores in memory (callers check T > protect_first + protect_last).
template <typename Score>
int64_t lowest_scored_index(const Score* row, int64_t T, int64_t protect_first, int64_t protect_last) {
  int64_t worst = protect_first;
  for (int64_t t = protect_first + 1; t < T - protect_last; ++t)
    if (row[t] <= row[worst]) worst = t;  // `<=`: among equal lows the later position goes
  return worst;
}
// Entries kept per head for a keep ratio: int(T * keep_ratio) as a double product truncated, in [0, T].
int64_t keep_count_for_ratio(int64_t T, double keep_ratio);
// Entries kept per head for a kvpress compression ratio: int(T * (1 - ratio)), in [0, T].
int64_t keep_count_for_compression(int64_t T, double compression_ratio);

}  // namespace chorus::inference
