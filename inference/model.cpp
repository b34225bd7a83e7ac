#include "inference/model.h"

#include "inference/safetensors.h"

#include <cmath>
#include <set>
#include <stdexcept>

#if TORCH_VERSION_MAJOR >= 2
#define CHORUS_HAS_SDPA 1
#else
#define CHORUS_HAS_SDPA 0
#endif

namespace chorus::inference {
namespace {

torch::Dtype torch_dtype_of(DType d, const std::string& where) {
  switch (d) {
    case DType::F64: return torch::kFloat64;
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    default: throw ModelError(where + ": dtype " + dtype_name(d) + " is not a floating-point weight type");
  }
}

// Copies a mapped tensor into a torch tensor of `dtype` on `device`.
torch::Tensor to_torch(const TensorView& view, const std::string& where, const LoadOptions& options) {
  auto src = torch::from_blob(const_cast<std::byte*>(view.data), view.shape,
                              torch::TensorOptions().dtype(torch_dtype_of(view.dtype, where)));
  return src.to(options.device, options.dtype, /*non_blocking=*/false, /*copy=*/true);
}

class WeightReader {
 public:
  WeightReader(const std::filesystem::path& dir, const LoadOptions& options)
      : files_(WeightFiles::open(dir)), dir_(dir), options_(options) {
    for (const auto& n : files_.names()) unused_.insert(n);
  }

  torch::Tensor get(const std::string& name, std::vector<int64_t> shape, const char* config_hint) {
    const TensorView* view = files_.find(name);
    if (!view)
      throw ModelError(dir_.string() + ": tensor '" + name + "' is missing from the checkpoint (expected shape " +
                       shape_str(shape) + ")");
    if (view->shape != shape)
      throw ModelError(files_.file_of(name) + ": tensor '" + name + "' has shape " + shape_str(view->shape) +
                       " but config.json implies " + shape_str(shape) + " (check " + config_hint + ")");
    unused_.erase(name);
    dtypes_.insert(dtype_name(view->dtype));
    parameters_ += view->numel();
    return to_torch(*view, files_.file_of(name) + ": tensor '" + name + "'", options_);
  }

  bool has(const std::string& name) const { return files_.find(name) != nullptr; }
  void skip(const std::string& name) { unused_.erase(name); }
  const std::set<std::string>& unused() const { return unused_; }
  int64_t parameters() const { return parameters_; }
  std::string dtype() const { return dtypes_.size() == 1 ? *dtypes_.begin() : dtypes_.empty() ? "none" : "mixed"; }

 private:
  static std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
  }
  WeightFiles files_;
  std::filesystem::path dir_;
  LoadOptions options_;
  std::set<std::string> unused_;
  std::set<std::string> dtypes_;
  int64_t parameters_ = 0;
};

}  // namespace

Model::Model(ModelConfig config, LoadOptions options)
    : config_(std::move(config)), options_(options), rope_(config_) {}

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, const LoadOptions& options) {
  auto config = ModelConfig::load(dir);
  std::unique_ptr<Model> m(new Model(config, options));
  const auto& c = m->config_;
  WeightReader w(dir, options);
  const int64_t H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  const int64_t q_out = c.num_heads * D, kv_out = c.num_kv_heads * D;
  m->embed_ = w.get("model.embed_tokens.weight", {c.vocab_size, H}, "vocab_size, hidden_size");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer l;
    l.input_norm = w.get(p + "input_layernorm.weight", {H}, "hidden_size");
    l.post_norm = w.get(p + "post_attention_layernorm.weight", {H}, "hidden_size");
    l.q = w.get(p + "self_attn.q_proj.weight", {q_out, H}, "num_attention_heads, head_dim, hidden_size");
    l.k = w.get(p + "self_attn.k_proj.weight", {kv_out, H}, "num_key_value_heads, head_dim, hidden_size");
    l.v = w.get(p + "self_attn.v_proj.weight", {kv_out, H}, "num_key_value_heads, head_dim, hidden_size");
    l.o = w.get(p + "self_attn.o_proj.weight", {H, q_out}, "hidden_size, num_attention_heads, head_dim");
    if (c.attention_bias) {
      l.q_bias = w.get(p + "self_attn.q_proj.bias", {q_out}, "num_attention_heads, head_dim");
      l.k_bias = w.get(p + "self_attn.k_proj.bias", {kv_out}, "num_key_value_heads, head_dim");
      l.v_bias = w.get(p + "self_attn.v_proj.bias", {kv_out}, "num_key_value_heads, head_dim");
      if (c.architecture == Architecture::llama) l.o_bias = w.get(p + "self_attn.o_proj.bias", {H}, "hidden_size");
    }
    l.gate = w.get(p + "mlp.gate_proj.weight", {I, H}, "intermediate_size, hidden_size");
    l.up = w.get(p + "mlp.up_proj.weight", {I, H}, "intermediate_size, hidden_size");
    l.down = w.get(p + "mlp.down_proj.weight", {H, I}, "hidden_size, intermediate_size");
    if (c.mlp_bias) {
      l.gate_bias = w.get(p + "mlp.gate_proj.bias", {I}, "intermediate_size");
      l.up_bias = w.get(p + "mlp.up_proj.bias", {I}, "intermediate_size");
      l.down_bias = w.get(p + "mlp.down_proj.bias", {H}, "hidden_size");
    }
    m->layers_.push_back(std::move(l));
  }
  m->final_norm_ = w.get("model.norm.weight", {H}, "hidden_size");
  if (c.tie_word_embeddings) {
    m->lm_head_ = m->embed_;
    w.skip("lm_head.weight");  // transformers ignores a stray lm_head when embeddings are tied
  } else {
    m->lm_head_ = w.get("lm_head.weight", {c.vocab_size, H}, "vocab_size, hidden_size, tie_word_embeddings");
  }
  // Rotary inverse-frequency buffers some checkpoints carry are recomputed, not read.
  for (const auto& name : std::set<std::string>(w.unused()))
    if (name.find("rotary_emb.inv_freq") != std::string::npos) w.skip(name);
  if (!w.unused().empty())
    throw ModelError(dir.string() + ": checkpoint has tensors this " + architecture_name(c.architecture) +
                     " config does not use, e.g. '" + *w.unused().begin() +
                     "' (check attention_bias / mlp_bias / num_hidden_layers in config.json)");
  m->parameter_count_ = w.parameters();
  m->checkpoint_dtype_ = w.dtype();
  return m;
}

KvCache Model::new_cache() const {
  return KvCache(config_.num_layers, config_.num_kv_heads, config_.head_dim, options_.dtype, options_.device);
}

torch::Tensor Model::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return weight * normed.to(x.scalar_type());
}

torch::Tensor Model::attention(const Layer& l, int64_t index, const torch::Tensor& x, const torch::Tensor& positions,
                               const torch::Tensor& cos, const torch::Tensor& sin, KvCache& cache,
                               const LayerObserver& observer) const {
  const int64_t n = x.size(0), Hq = config_.num_heads, Hkv = config_.num_kv_heads, D = config_.head_dim;
  const int64_t G = Hq / Hkv;
  auto q = torch::linear(x, l.q, l.q_bias).view({n, Hq, D}).transpose(0, 1);
  auto k_pre = torch::linear(x, l.k, l.k_bias).view({n, Hkv, D}).transpose(0, 1);
  auto v = torch::linear(x, l.v, l.v_bias).view({n, Hkv, D}).transpose(0, 1);
  q = Rope::apply(q, cos, sin);
  auto k = Rope::apply(k_pre, cos, sin);
  cache.append(index, k, v, positions);

  auto keys = cache.keys(index);      // [Hkv, T, D]
  auto values = cache.values(index);  // [Hkv, T, D]
  const int64_t T = keys.size(1);
  const int64_t window = config_.window(index);
  // Visibility: key position <= query position, and within the sliding window when there is one. Returns an
  // additive mask [Hkv, 1, nb, T] for queries [s, s + nb), or an undefined tensor when everything is visible.
  const bool needs_mask = n > 1 || window > 0;
  auto mask_for = [&](int64_t s, int64_t nb) -> torch::Tensor {
    if (!needs_mask) return {};
    auto kpos = cache.positions(index).unsqueeze(1).unsqueeze(1);  // [Hkv, 1, 1, T]
    auto qpos = positions.narrow(0, s, nb).view({1, 1, nb, 1});
    auto visible = kpos <= qpos;
    if (window > 0) visible = visible & (kpos > qpos - window);
    return torch::zeros(visible.sizes(), torch::TensorOptions().dtype(x.scalar_type()).device(x.device()))
        .masked_fill(visible.logical_not(), -std::numeric_limits<float>::infinity());
  };
  torch::Tensor out;  // [Hkv, G, n, D]
#if CHORUS_HAS_SDPA
  {
    auto q4 = q.view({Hkv, G, n, D});
    auto k4 = keys.unsqueeze(1).expand({Hkv, G, T, D});
    auto v4 = values.unsqueeze(1).expand({Hkv, G, T, D});
    c10::optional<torch::Tensor> m;
    if (needs_mask) m = mask_for(0, n).expand({Hkv, G, n, T});
    out = at::scaled_dot_product_attention(q4, k4, v4, m);
  }
#else
  {
    // Queries in blocks, so a long prefill never materialises the whole [heads, n, T] score tensor.
    constexpr int64_t kQueryBlock = 128;
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    auto q4 = q.view({Hkv, G, n, D});
    auto keys_t = keys.transpose(1, 2);
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < n; s += kQueryBlock) {
      const int64_t nb = std::min(kQueryBlock, n - s);
      auto qb = q4.narrow(2, s, nb).reshape({Hkv, G * nb, D});
      auto scores = torch::matmul(qb, keys_t).view({Hkv, G, nb, T}) * scale;
      if (needs_mask) scores = scores + mask_for(s, nb);
      auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(x.scalar_type());
      parts.push_back(torch::matmul(probs.view({Hkv, G * nb, T}), values).view({Hkv, G, nb, D}));
    }
    out = parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
  }
#endif
  // Attention ran over everything the cache held: an observer that compresses affects later forwards only.
  if (observer) observer(LayerActivations{index, x, q, k_pre, positions}, cache);
  auto merged = out.reshape({Hq, n, D}).transpose(0, 1).reshape({n, Hq * D});
  return torch::linear(merged, l.o, l.o_bias);
}

torch::Tensor Model::forward(const std::vector<int64_t>& ids, KvCache& cache, bool last_only,
                             const LayerObserver& observer) const {
  torch::NoGradGuard no_grad;
  if (ids.empty()) throw std::invalid_argument("forward: no token ids");
  for (auto id : ids)
    if (id < 0 || id >= config_.vocab_size)
      throw std::invalid_argument("token id " + std::to_string(id) + " is out of range (vocab_size " +
                                  std::to_string(config_.vocab_size) + ")");
  const int64_t n = static_cast<int64_t>(ids.size());
  auto device = options_.device;
  auto id_tensor = torch::tensor(ids, torch::kInt64).to(device);
  auto positions = torch::arange(cache.seen_tokens(), cache.seen_tokens() + n,
                                 torch::TensorOptions().dtype(torch::kInt64).device(device));
  auto [cos, sin] = rope_.tables(positions, options_.dtype);
  auto h = embed_.index_select(0, id_tensor);
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const Layer& l = layers_[i];
    h = h + attention(l, i, rms_norm(h, l.input_norm), positions, cos, sin, cache, observer);
    auto x = rms_norm(h, l.post_norm);
    auto gated = torch::silu(torch::linear(x, l.gate, l.gate_bias)) * torch::linear(x, l.up, l.up_bias);
    h = h + torch::linear(gated, l.down, l.down_bias);
  }
  cache.advance(n);
  if (last_only) h = h.narrow(0, n - 1, 1);
  return torch::linear(rms_norm(h, final_norm_), lm_head_).to(torch::kFloat32);
}

}  // namespace chorus::inference
