#pragma once
// KvPress: a KV-cache compression scorer ("press", after NVIDIA kvpress) and the registry of all of them.
//
// A press scores every retained entry of one layer, per KV head; a higher score means the entry is kept.
// Selection of the kept entries from the scores is in kv-select.h. Each method lives in its own
// press-<name>.cpp file and registers itself with a static KvPressRegistrar.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chorus::inference {

// One layer's tensors as a press sees them (batch 1).
struct PressInput {
  int64_t layer = 0;            // layer index (selects per-layer parameters such as Q-Filters)
  torch::Tensor keys;           // post-RoPE keys [n_kv, T, d]
  torch::Tensor values;         // values [n_kv, T, d]
  torch::Tensor queries;        // post-RoPE queries of the last Tq positions [n_heads, Tq, d]
  torch::Tensor prerope_keys;   // pre-RoPE keys (bias included) [n_kv, T, d]
  torch::Tensor positions;      // original positions [n_kv, T] int64
};

// Method parameters; each press reads the fields it needs.
struct PressOptions {
  int64_t n_sink = 4;             // streaming: attention-sink tokens kept at the start
  int64_t window = 0;             // streaming: recent tokens kept at the end (0: use compression_ratio)
  double compression_ratio = 0;   // streaming (kvpress form, when window == 0), compactor: fraction pruned
  int64_t snapkv_window = 64;     // snapkv: observation window (last queries)
  int64_t snapkv_kernel = 5;      // snapkv: avg-pool kernel (odd)
  torch::Tensor filters;          // qfilters: [L, n_kv, d] or [n_kv, d], score = k . filter
  bool filters_stored = false;    // qfilters: `filters` are the official stored q_filters (= -filters)
  torch::Tensor phi;              // leverage/compactor: Gaussian sketch [n_kv, d, k] or [d, k] (required)
  std::optional<double> blending; // compactor: weight of leverage (default: compression_ratio)
  std::string leverage_method = "kvpress";  // leverage/compactor: "kvpress" (ridge, Cholesky) or "eig" (paper Alg. 1)
  int64_t sink_start = 8;         // compactor: leading positions protected
  int64_t sink_end = 4;           // compactor: trailing positions protected
  uint64_t seed = 0;              // random: generator seed (combined with the layer index)
  int64_t chunk_size = 256;       // noncausal_attn: chunk length
  bool kvpress_padding = true;    // noncausal_attn: reproduce kvpress's zero-padding of the last chunk
};

// A scoring method for KV-cache compression.
class KvPress {
 public:
  virtual ~KvPress();
  // The registry name ("knorm", "streaming_llm", ...).
  virtual std::string name() const = 0;
  // Scores [n_kv, T] float32 (higher = kept) for one layer.
  virtual torch::Tensor score(const PressInput& input) const = 0;
  // True when score() reads PressInput::queries.
  virtual bool needs_queries() const;
  // True when score() reads PressInput::prerope_keys.
  virtual bool needs_prerope_keys() const;
  // True when an entry's score depends on that entry alone (so scores can be kept instead of recomputed).
  virtual bool per_entry() const;
};

// Builds a press from options; used by the registry.
using KvPressFactory = std::function<std::unique_ptr<KvPress>(const PressOptions&)>;

// Creates the press registered as `name`; throws std::invalid_argument for an unknown name.
std::unique_ptr<KvPress> make_press(const std::string& name, const PressOptions& options = {});
// Names of all registered presses, sorted (aliases excluded).
std::vector<std::string> press_names();
// The registered name `name` stands for (an alias such as "streaming" resolves to "streaming_llm").
std::string canonical_press_name(const std::string& name);

// A static instance registers a press factory under a name at program start.
struct KvPressRegistrar {
  // Registers `factory` as `name`; throws std::logic_error for a duplicate name.
  KvPressRegistrar(const std::string& name, KvPressFactory factory, const std::vector<std::string>& aliases = {});
};

}  // namespace chorus::inference
