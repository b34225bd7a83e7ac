#pragma once
// KvCache: per layer, the keys/values (post-RoPE) and original positions each KV head retains.
//
// Every KV head of a layer keeps the same number of entries, but not necessarily the same positions:
// compression (retain) may keep a different subset per head. Tokens keep their original RoPE positions.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace chorus::inference {

class KvCache {
 public:
  // An empty cache for `num_layers` layers of `num_kv_heads` heads of `head_dim`, stored as `dtype` on `device`.
  KvCache(int64_t num_layers, int64_t num_kv_heads, int64_t head_dim, torch::Dtype dtype = torch::kFloat32,
          torch::Device device = torch::kCPU);

  // Appends new entries to `layer`: keys/values [kv_heads, n, head_dim], positions [n] (int64).
  void append(int64_t layer, const torch::Tensor& keys, const torch::Tensor& values, const torch::Tensor& positions);
  // Retained keys of `layer`: [kv_heads, size(layer), head_dim] (a view; valid until the next change).
  torch::Tensor keys(int64_t layer) const;
  // Retained values of `layer`: [kv_heads, size(layer), head_dim].
  torch::Tensor values(int64_t layer) const;
  // Original positions of the retained entries: [kv_heads, size(layer)] int64.
  torch::Tensor positions(int64_t layer) const;
  // Entries each head of `layer` retains.
  int64_t size(int64_t layer) const { return layers_[layer].length; }
  // Keeps only entries `indices` ([kv_heads, k] int64, per head, any order; kept sorted by position).
  void retain(int64_t layer, const torch::Tensor& indices);
  // Removes one entry per head (`index` [kv_heads] int64), shifting later entries down in place.
  void remove_one(int64_t layer, const torch::Tensor& index);
  // Changes whenever entries of `layer` are removed or reordered (retain, remove_one, clear); never the same
  // value in two caches, so an observer can tell whether what it saw is still there (appends keep it).
  uint64_t edit_stamp(int64_t layer) const { return layers_.at(static_cast<size_t>(layer)).stamp; }
  // Tokens seen so far (the next token's position), whatever was evicted.
  int64_t seen_tokens() const { return seen_tokens_; }
  // Marks `n` more tokens as seen (called once per forward, after all layers appended).
  void advance(int64_t n) { seen_tokens_ += n; }
  // Bytes held by retained keys, values and positions (not spare capacity).
  int64_t bytes() const;
  // Bytes allocated, spare capacity included.
  int64_t allocated_bytes() const;
  // Drops everything.
  void clear();
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  int64_t num_kv_heads() const { return num_kv_heads_; }
  int64_t head_dim() const { return head_dim_; }

 private:
  struct Layer {
    torch::Tensor keys, values, positions;  // capacity-sized buffers
    int64_t length = 0;
    uint64_t stamp = 0;
  };
  void reserve(Layer& layer, int64_t capacity);
  std::vector<Layer> layers_;
  int64_t num_kv_heads_, head_dim_;
  torch::TensorOptions options_;
  int64_t seen_tokens_ = 0;
};

}  // namespace chorus::inference
