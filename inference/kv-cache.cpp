#include "inference/kv-cache.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

namespace chorus::inference {
namespace {

uint64_t next_stamp() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

}  // namespace

KvCache::KvCache(int64_t num_layers, int64_t num_kv_heads, int64_t head_dim, torch::Dtype dtype,
                 torch::Device device)
    : layers_(static_cast<size_t>(num_layers)),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      options_(torch::TensorOptions().dtype(dtype).device(device)) {
  for (auto& l : layers_) l.stamp = next_stamp();
}

void KvCache::reserve(Layer& layer, int64_t capacity) {
  auto keys = torch::empty({num_kv_heads_, capacity, head_dim_}, options_);
  auto values = torch::empty({num_kv_heads_, capacity, head_dim_}, options_);
  auto positions = torch::empty({num_kv_heads_, capacity}, options_.dtype(torch::kInt64));
  if (layer.length > 0) {
    keys.narrow(1, 0, layer.length).copy_(layer.keys.narrow(1, 0, layer.length));
    values.narrow(1, 0, layer.length).copy_(layer.values.narrow(1, 0, layer.length));
    positions.narrow(1, 0, layer.length).copy_(layer.positions.narrow(1, 0, layer.length));
  }
  layer.keys = keys;
  layer.values = values;
  layer.positions = positions;
}

void KvCache::append(int64_t layer_index, const torch::Tensor& keys, const torch::Tensor& values,
                     const torch::Tensor& positions) {
  Layer& layer = layers_.at(static_cast<size_t>(layer_index));
  const int64_t n = keys.size(1);
  if (keys.size(0) != num_kv_heads_ || keys.size(2) != head_dim_ || values.sizes() != keys.sizes() ||
      positions.numel() != n)
    throw std::invalid_argument("KvCache::append: expected keys/values [kv_heads, n, head_dim] and n positions");
  const int64_t needed = layer.length + n;
  if (!layer.keys.defined() || layer.keys.size(1) < needed)
    reserve(layer, std::max<int64_t>(needed, std::max<int64_t>(64, layer.length * 2)));
  layer.keys.narrow(1, layer.length, n).copy_(keys);
  layer.values.narrow(1, layer.length, n).copy_(values);
  layer.positions.narrow(1, layer.length, n).copy_(positions.reshape({1, n}).expand({num_kv_heads_, n}));
  layer.length = needed;
}

torch::Tensor KvCache::keys(int64_t layer) const {
  const Layer& l = layers_.at(static_cast<size_t>(layer));
  return l.length ? l.keys.narrow(1, 0, l.length) : torch::empty({num_kv_heads_, 0, head_dim_}, options_);
}

torch::Tensor KvCache::values(int64_t layer) const {
  const Layer& l = layers_.at(static_cast<size_t>(layer));
  return l.length ? l.values.narrow(1, 0, l.length) : torch::empty({num_kv_heads_, 0, head_dim_}, options_);
}

torch::Tensor KvCache::positions(int64_t layer) const {
  const Layer& l = layers_.at(static_cast<size_t>(layer));
  return l.length ? l.positions.narrow(1, 0, l.length)
                  : torch::empty({num_kv_heads_, 0}, options_.dtype(torch::kInt64));
}

void KvCache::retain(int64_t layer_index, const torch::Tensor& indices) {
  Layer& layer = layers_.at(static_cast<size_t>(layer_index));
  if (indices.dim() != 2 || indices.size(0) != num_kv_heads_)
    throw std::invalid_argument("KvCache::retain: indices must be [kv_heads, k]");
  const int64_t k = indices.size(1);
  if (k > layer.length) throw std::invalid_argument("KvCache::retain: more indices than entries");
  auto idx = indices.to(layer.positions.device(), torch::kInt64);
  // Keep the retained entries in position order so attention and later eviction see a stable layout.
  auto pos = positions(layer_index).gather(1, idx);
  auto order = std::get<1>(pos.sort(1));
  idx = idx.gather(1, order);
  auto gather3 = idx.unsqueeze(-1).expand({num_kv_heads_, k, head_dim_});
  auto new_keys = keys(layer_index).gather(1, gather3);
  auto new_values = values(layer_index).gather(1, gather3);
  auto new_positions = positions(layer_index).gather(1, idx);
  layer.keys.narrow(1, 0, k).copy_(new_keys);
  layer.values.narrow(1, 0, k).copy_(new_values);
  layer.positions.narrow(1, 0, k).copy_(new_positions);
  layer.length = k;
  layer.stamp = next_stamp();
}

void KvCache::remove_one(int64_t layer_index, const torch::Tensor& index) {
  Layer& layer = layers_.at(static_cast<size_t>(layer_index));
  if (index.dim() != 1 || index.size(0) != num_kv_heads_)
    throw std::invalid_argument("KvCache::remove_one: index must be [kv_heads]");
  auto idx = index.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* at = idx.data_ptr<int64_t>();
  const int64_t L = layer.length;
  for (int64_t h = 0; h < num_kv_heads_; ++h)
    if (at[h] < 0 || at[h] >= L) throw std::invalid_argument("KvCache::remove_one: index out of range");
  if (!layer.keys.device().is_cpu()) {  // on an accelerator, a gather is the fast way
    auto all = torch::arange(L, torch::kInt64).unsqueeze(0).expand({num_kv_heads_, L});
    auto keep = all.ne(idx.unsqueeze(1));
    retain(layer_index, all.masked_select(keep).view({num_kv_heads_, L - 1}));
    return;
  }
  // Per head, the entries after the removed one move down one slot (rows of a head are contiguous).
  const int64_t cap = layer.keys.size(1);
  const size_t row = static_cast<size_t>(head_dim_) * layer.keys.element_size();
  auto* keys = static_cast<char*>(layer.keys.data_ptr());
  auto* values = static_cast<char*>(layer.values.data_ptr());
  auto* positions = layer.positions.data_ptr<int64_t>();
  for (int64_t h = 0; h < num_kv_heads_; ++h) {
    const int64_t i = at[h], tail = L - 1 - i;
    if (tail <= 0) continue;
    const size_t base = static_cast<size_t>(h * cap + i);
    std::memmove(keys + base * row, keys + (base + 1) * row, static_cast<size_t>(tail) * row);
    std::memmove(values + base * row, values + (base + 1) * row, static_cast<size_t>(tail) * row);
    std::memmove(positions + base, positions + base + 1, static_cast<size_t>(tail) * sizeof(int64_t));
  }
  layer.length = L - 1;
  layer.stamp = next_stamp();
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  const int64_t elem = static_cast<int64_t>(torch::elementSize(torch::typeMetaToScalarType(options_.dtype())));
  for (const auto& l : layers_) total += l.length * num_kv_heads_ * (2 * head_dim_ * elem + 8);
  return total;
}

int64_t KvCache::allocated_bytes() const {
  int64_t total = 0;
  for (const auto& l : layers_)
    if (l.keys.defined())
      total += static_cast<int64_t>(l.keys.nbytes() + l.values.nbytes() + l.positions.nbytes());
  return total;
}

void KvCache::clear() {
  for (auto& l : layers_) {
    l = Layer{};
    l.stamp = next_stamp();
  }
  seen_tokens_ = 0;
}

}  // namespace chorus::inference
