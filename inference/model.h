#pragma once
// Model: a Llama-family decoder (Llama, Qwen2, Mistral) loaded from a Hugging Face directory, run on libtorch.
#include "inference/kv-cache.h"
#include "inference/model-config.h"
#include "inference/rope.h"

#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace chorus::inference {

// Where and how to compute: f32 on CPU by default (bf16/f16 weights are upcast); bf16 is typical on CUDA.
struct LoadOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kFloat32;
};

// What one attention layer saw during a forward; given to an observer (KV compression scores from it).
struct LayerActivations {
  int64_t layer;
  const torch::Tensor& hidden;        // attention input after input_layernorm [n, hidden]
  const torch::Tensor& queries;       // post-RoPE queries [heads, n, head_dim]
  const torch::Tensor& keys_pre_rope; // [kv_heads, n, head_dim]
  const torch::Tensor& positions;     // [n] int64
};

// Called for every layer of a forward, after the new keys/values were appended to the cache and that layer's
// attention ran over the whole cache; changes it makes to the cache (KV compression) apply from the next forward.
using LayerObserver = std::function<void(const LayerActivations&, KvCache&)>;

class Model {
 public:
  // Loads config.json, generation_config.json and the safetensors weights of `dir`; throws ModelError.
  static std::unique_ptr<Model> load(const std::filesystem::path& dir, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  const LoadOptions& options() const { return options_; }
  // Parameters in the checkpoint (tied embeddings counted once).
  int64_t parameter_count() const { return parameter_count_; }
  // The weights' storage dtype in the checkpoint ("F32", "BF16", ...; "mixed" if several).
  const std::string& checkpoint_dtype() const { return checkpoint_dtype_; }
  // An empty KV cache sized for this model.
  KvCache new_cache() const;

  // Runs `ids` after the tokens `cache` has seen, appends their keys/values, returns float32 logits
  // [n, vocab] (or [1, vocab] for the last token when `last_only`). Throws std::invalid_argument on bad ids.
  torch::Tensor forward(const std::vector<int64_t>& ids, KvCache& cache, bool last_only = false,
                        const LayerObserver& observer = nullptr) const;

 private:
  struct Layer {
    torch::Tensor input_norm, post_norm;
    torch::Tensor q, k, v, o, q_bias, k_bias, v_bias, o_bias;
    torch::Tensor gate, up, down, gate_bias, up_bias, down_bias;
  };
  Model(ModelConfig config, LoadOptions options);
  torch::Tensor attention(const Layer& layer, int64_t index, const torch::Tensor& x, const torch::Tensor& positions,
                          const torch::Tensor& cos, const torch::Tensor& sin, KvCache& cache,
                          const LayerObserver& observer) const;
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;

  ModelConfig config_;
  LoadOptions options_;
  Rope rope_;
  torch::Tensor embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  int64_t parameter_count_ = 0;
  std::string checkpoint_dtype_;
};

}  // namespace chorus::inference
