#pragma once
// LlamaTrainer: a trainable Llama/Qwen2-architecture decoder with the exact Hugging Face parameter names and shapes,
// so what it exports (save_hf) loads in inference::Model and in transformers.
//
// - Parameters are plain tensors with requires_grad, named as in HF checkpoints (model.embed_tokens.weight,
//   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight (+ q/k/v bias when attention_bias), model.layers.{i}.mlp.
//   {gate,up,down}_proj.weight, model.layers.{i}.{input,post_attention}_layernorm.weight, model.norm.weight,
//   lm_head.weight unless tied). Master weights are float32 on any device.
// - The forward pass mirrors inference/model.cpp: RoPE from inference/rope.h (rotate-half, float64 tables), RMSNorm
//   computed in float32, SiLU-gated MLP, GQA (query head h uses KV head h / (heads / kv_heads)), causal attention.
//   Rows may hold several packed examples: `segments` restricts attention to the same example, `positions` restart
//   at 0 for each example, so a packed row computes exactly what the examples would alone.
// - attention_bias = true exports as Qwen2ForCausalLM (q/k/v biases only, as Qwen2); otherwise LlamaForCausalLM.
#include "inference/model-config.h"
#include "inference/rope.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chorus::training {

// The config.json fields of the trained model (names as in config.json).
struct LlamaTrainerConfig {
  int64_t vocab_size = 4096;
  int64_t hidden_size = 256;
  int64_t intermediate_size = 768;
  int64_t num_hidden_layers = 6;
  int64_t num_attention_heads = 8;
  int64_t num_key_value_heads = 2;
  int64_t head_dim = 0;  // 0: hidden_size / num_attention_heads
  double rope_theta = 10000;
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = true;
  bool attention_bias = false;  // true: Qwen2ForCausalLM (q/k/v biases)
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  double initializer_range = 0.02;

  // head_dim with the default resolved.
  int64_t resolved_head_dim() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  // Throws std::invalid_argument naming the field when the shapes do not fit together.
  void validate() const;
  // Trainable parameters (tied embeddings counted once).
  int64_t parameter_count() const;
  // "LlamaForCausalLM" or "Qwen2ForCausalLM".
  std::string architecture() const;
  // The HF config.json document (architectures, model_type, torch_dtype = `torch_dtype`, ...).
  nlohmann::json to_config_json(const std::string& torch_dtype = "float32") const;
  // From our struct's fields (the same names as config.json; absent fields keep the defaults; eos_token_id may be
  // an int or a list). Unknown keys are ignored except that "architectures"/"model_type" must be Llama/Qwen2.
  // Throws std::invalid_argument naming `where` and the field.
  static LlamaTrainerConfig from_json(const nlohmann::json& j, const std::string& where);
  // Named presets: "tiny" (~0.1M, tests), "small" (~4M), "base" (~10M), "large" (~19M). Throws on unknown names.
  static LlamaTrainerConfig preset(const std::string& name);
  // The engine's view (for RoPE tables and comparisons).
  inference::ModelConfig to_inference() const;
};

// A training batch: B rows of T tokens. Built by make_batch().
struct TrainBatch {
  torch::Tensor ids;        // [B, T] int64 (padding: 0)
  torch::Tensor positions;  // [B, T] int64, restarting at 0 for each example
  torch::Tensor segments;   // [B, T] int64: example number within the row; padding has its own (-1)
  torch::Tensor weights;    // [B, T] float32: 1 where position t's prediction of token t+1 counts in the loss
  int64_t tokens = 0;       // real (non-padding) tokens
  int64_t targets = 0;      // tokens counted in the loss
};

// One training sequence: token ids and the loss mask (mask[t] = 1: token t is a target, predicted from t-1).
struct TrainExample {
  std::vector<int64_t> ids;
  std::vector<uint8_t> mask;
  std::string task = {};  // the curriculum task that made it (the JSONL line's "task"; empty when absent)
};

// Rows from examples. Each example is cut to seq_len tokens. pack = false: one example per row, padded to the
// longest row. pack = true: whole examples are laid first-fit decreasing (longest first, each into the first row
// with room) into rows of at most seq_len tokens (attention never crosses examples; positions restart), padded to the
// longest row. `context_weight` > 0 also counts
// the predictions of non-target tokens (mask 0) of each example in the loss, with that weight (targets weigh 1).
TrainBatch make_batch(const std::vector<const TrainExample*>& examples, int64_t seq_len, bool pack,
                      const torch::Device& device = torch::kCPU, float context_weight = 0.0f);

class LlamaTrainer {
 public:
  // Fresh weights: normal(0, initializer_range) for embeddings and projections (o_proj/down_proj scaled by
  // 1/sqrt(2 * num_hidden_layers)), zeros for biases, ones for norms; deterministic for `seed` on every device
  // (drawn on the CPU).
  LlamaTrainer(const LlamaTrainerConfig& config, uint64_t seed, const torch::Device& device = torch::kCPU);
  // Reads a directory written by save_hf (any dtype; weights become float32 on `device`). config.json gives the
  // config (bos/eos from generation_config.json when present). Throws std::runtime_error naming the file.
  static LlamaTrainer load_checkpoint(const std::filesystem::path& dir, const torch::Device& device = torch::kCPU);

  const LlamaTrainerConfig& config() const { return config_; }
  const torch::Device& device() const { return device_; }
  // (HF name, tensor) in checkpoint order; the tensors are the live parameters.
  const std::vector<std::pair<std::string, torch::Tensor>>& named_parameters() const { return params_; }
  std::vector<torch::Tensor> parameters() const;
  // Finds a parameter by HF name (undefined tensor when absent).
  torch::Tensor parameter(const std::string& name) const;

  // logits [B, T, vocab] float32 for ids [B, T]; positions/segments as in TrainBatch (undefined: 0..T-1, one
  // example per row).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& positions = {},
                        const torch::Tensor& segments = {}) const;
  // Mean cross entropy over the batch's weighted predictions (0 when nothing counts).
  torch::Tensor loss(const TrainBatch& batch) const;
  // Convenience: ids/mask [B, T] with one example per row; mask[b, t+1] = 1 makes position t's prediction count.
  torch::Tensor loss(const torch::Tensor& ids, const torch::Tensor& mask) const;

  // Writes config.json, generation_config.json and model.safetensors (bf16 or f32: `dtype`) into `dir` (created),
  // each file atomically (temporary file + rename). Extra metadata goes into the safetensors header.
  void save_hf(const std::filesystem::path& dir, torch::Dtype dtype = torch::kBFloat16,
               const std::map<std::string, std::string>& metadata = {}) const;

 private:
  // The attention mask of one forward: `allowed` [B, 1, T, T] (true = may attend) and, per row, query blocks
  // {q_begin, q_end, k_begin}: queries [q_begin, q_end) can only see keys [k_begin, q_end) (causal, and
  // examples never cross), so the scores outside that rectangle are not computed. `rows_differ`: the rows'
  // blocks are not all the same (packed rows of different layouts), so each row is computed alone.
  struct AttentionMask {
    torch::Tensor allowed;
    std::vector<std::vector<std::array<int64_t, 3>>> blocks;
    bool rows_differ = false;
  };
  // The final normed hidden states [B, T, hidden] (forward() without the lm_head).
  torch::Tensor hidden(const torch::Tensor& ids, const torch::Tensor& positions,
                       const torch::Tensor& segments) const;
  torch::Tensor attention(int64_t layer, const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                          const AttentionMask& mask) const;
  torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const;
  torch::Tensor add(const std::string& name, std::vector<int64_t> shape);

  struct Layer {
    torch::Tensor input_norm, post_norm, q, k, v, o, q_bias, k_bias, v_bias, gate, up, down;
  };
  LlamaTrainerConfig config_;
  torch::Device device_;
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  torch::Tensor embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  inference::Rope rope_;  // the engine's RoPE (tables in float64)
};

}  // namespace chorus::training
