#include "training/llama-trainer.h"

#include "inference/safetensors-writer.h"
#include "inference/tensor-file.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#if TORCH_VERSION_MAJOR >= 2
#define CHORUS_TRAIN_HAS_SDPA 1
#else
#define CHORUS_TRAIN_HAS_SDPA 0
#endif

namespace chorus::training {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& where, const std::string& field, const std::string& what) {
  throw std::invalid_argument(where + ": " + field + ": " + what);
}

int64_t get_int(const json& j, const std::string& where, const char* key, int64_t fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_integer()) bad(where, key, "expected an integer, got " + j[key].dump());
  return j[key].get<int64_t>();
}

double get_double(const json& j, const std::string& where, const char* key, double fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) bad(where, key, "expected a number, got " + j[key].dump());
  return j[key].get<double>();
}

bool get_bool(const json& j, const std::string& where, const char* key, bool fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) bad(where, key, "expected true or false, got " + j[key].dump());
  return j[key].get<bool>();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes `text` to `path` through a temporary file renamed into place.
void write_atomically(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(tmp.string() + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw std::runtime_error(path.string() + ": cannot rename the temporary file (" + ec.message() + ")");
}

const char* dtype_config_name(torch::Dtype dtype) {
  if (dtype == torch::kBFloat16) return "bfloat16";
  if (dtype == torch::kFloat16) return "float16";
  if (dtype == torch::kFloat32) return "float32";
  throw std::invalid_argument("save_hf: dtype must be bf16, f16 or f32");
}

}  // namespace

// ---------------------------------------------------------------------------------------------- config

void LlamaTrainerConfig::validate() const {
  const std::string w = "model config";
  for (auto [name, v] : {std::pair{"vocab_size", vocab_size}, {"hidden_size", hidden_size},
                         {"intermediate_size", intermediate_size}, {"num_hidden_layers", num_hidden_layers},
                         {"num_attention_heads", num_attention_heads}, {"num_key_value_heads", num_key_value_heads},
                         {"max_position_embeddings", max_position_embeddings}})
    if (v <= 0) bad(w, name, "must be positive, got " + std::to_string(v));
  if (num_attention_heads % num_key_value_heads != 0)
    bad(w, "num_key_value_heads", std::to_string(num_key_value_heads) + " must divide num_attention_heads (" +
                                      std::to_string(num_attention_heads) + ")");
  if (head_dim == 0 && hidden_size % num_attention_heads != 0)
    bad(w, "hidden_size", "not divisible by num_attention_heads; set head_dim");
  const int64_t d = resolved_head_dim();
  if (d <= 0 || d % 2 != 0) bad(w, "head_dim", "must be a positive even number, got " + std::to_string(d));
  if (!(rope_theta > 0)) bad(w, "rope_theta", "must be positive");
  if (!(rms_norm_eps > 0)) bad(w, "rms_norm_eps", "must be positive");
  if (!(initializer_range > 0)) bad(w, "initializer_range", "must be positive");
  if (bos_token_id && (*bos_token_id < 0 || *bos_token_id >= vocab_size))
    bad(w, "bos_token_id", std::to_string(*bos_token_id) + " is outside the vocabulary");
  for (auto id : eos_token_ids)
    if (id < 0 || id >= vocab_size) bad(w, "eos_token_id", std::to_string(id) + " is outside the vocabulary");
}

int64_t LlamaTrainerConfig::parameter_count() const {
  const int64_t H = hidden_size, D = resolved_head_dim(), q = num_attention_heads * D, kv = num_key_value_heads * D;
  int64_t layer = H * q + 2 * H * kv + q * H + 3 * H * intermediate_size + 2 * H;
  if (attention_bias) layer += q + 2 * kv;
  int64_t total = vocab_size * H + num_hidden_layers * layer + H;
  if (!tie_word_embeddings) total += vocab_size * H;
  return total;
}

std::string LlamaTrainerConfig::architecture() const {
  return attention_bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
}

json LlamaTrainerConfig::to_config_json(const std::string& torch_dtype) const {
  json j;
  j["architectures"] = json::array({architecture()});
  j["model_type"] = attention_bias ? "qwen2" : "llama";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = resolved_head_dim();
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["rope_scaling"] = nullptr;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["initializer_range"] = initializer_range;
  if (attention_bias) {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = num_hidden_layers;
  } else {
    j["attention_bias"] = false;
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  }
  j["attention_dropout"] = 0.0;
  j["use_cache"] = true;
  j["torch_dtype"] = torch_dtype;
  j["bos_token_id"] = bos_token_id ? json(*bos_token_id) : json(nullptr);
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (eos_token_ids.empty()) j["eos_token_id"] = nullptr;
  else j["eos_token_id"] = eos_token_ids;
  return j;
}

LlamaTrainerConfig LlamaTrainerConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": expected a JSON object");
  LlamaTrainerConfig c;
  if (j.contains("architectures")) {
    const auto& a = j["architectures"];
    if (!a.is_array() || a.empty() || !a[0].is_string()) bad(where, "architectures", "expected [\"LlamaForCausalLM\"]");
    const auto name = a[0].get<std::string>();
    if (name == "Qwen2ForCausalLM") c.attention_bias = true;
    else if (name != "LlamaForCausalLM")
      bad(where, "architectures", "'" + name + "' cannot be trained (LlamaForCausalLM or Qwen2ForCausalLM)");
  }
  if (j.contains("hidden_act") && j["hidden_act"] != "silu") bad(where, "hidden_act", "only \"silu\" is supported");
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) bad(where, "rope_scaling", "is not supported here");
  c.vocab_size = get_int(j, where, "vocab_size", c.vocab_size);
  c.hidden_size = get_int(j, where, "hidden_size", c.hidden_size);
  c.intermediate_size = get_int(j, where, "intermediate_size", c.intermediate_size);
  c.num_hidden_layers = get_int(j, where, "num_hidden_layers", c.num_hidden_layers);
  c.num_attention_heads = get_int(j, where, "num_attention_heads", c.num_attention_heads);
  c.num_key_value_heads = get_int(j, where, "num_key_value_heads", c.num_key_value_heads);
  c.head_dim = get_int(j, where, "head_dim", 0);
  c.rope_theta = get_double(j, where, "rope_theta", c.rope_theta);
  c.rms_norm_eps = get_double(j, where, "rms_norm_eps", c.rms_norm_eps);
  c.max_position_embeddings = get_int(j, where, "max_position_embeddings", c.max_position_embeddings);
  c.tie_word_embeddings = get_bool(j, where, "tie_word_embeddings", c.tie_word_embeddings);
  c.attention_bias = get_bool(j, where, "attention_bias", c.attention_bias);
  c.initializer_range = get_double(j, where, "initializer_range", c.initializer_range);
  if (j.contains("bos_token_id") && !j["bos_token_id"].is_null()) c.bos_token_id = get_int(j, where, "bos_token_id", 0);
  if (j.contains("eos_token_id") && !j["eos_token_id"].is_null()) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) {
      c.eos_token_ids = {e.get<int64_t>()};
    } else if (e.is_array()) {
      for (const auto& id : e) {
        if (!id.is_number_integer()) bad(where, "eos_token_id", "expected integers, got " + id.dump());
        c.eos_token_ids.push_back(id.get<int64_t>());
      }
    } else {
      bad(where, "eos_token_id", "expected an integer or a list of integers");
    }
  }
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + std::string(e.what()).substr(std::string("model config: ").size()));
  }
  return c;
}

LlamaTrainerConfig LlamaTrainerConfig::preset(const std::string& name) {
  LlamaTrainerConfig c;
  if (name == "tiny") {  // tests and smoke runs
    c.vocab_size = 512;
    c.hidden_size = 64;
    c.intermediate_size = 192;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.max_position_embeddings = 1024;
  } else if (name == "small") {  // ~4.5M with vocab 4096
    c.vocab_size = 4096;
    c.hidden_size = 256;
    c.intermediate_size = 768;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 8;
    // A key/value head per query head: with 2 shared ones copying by content formed 2x later (docs/curriculum.md,
    // run 6).
    c.num_key_value_heads = 8;
  } else if (name == "base") {  // ~10M with vocab 6144
    c.vocab_size = 6144;
    c.hidden_size = 320;
    c.intermediate_size = 864;
    c.num_hidden_layers = 7;
    c.num_attention_heads = 5;
    c.num_key_value_heads = 1;
  } else if (name == "large") {  // ~19M with vocab 8192
    c.vocab_size = 8192;
    c.hidden_size = 384;
    c.intermediate_size = 1024;
    c.num_hidden_layers = 8;
    c.num_attention_heads = 6;
    c.num_key_value_heads = 2;
  } else {
    throw std::invalid_argument("unknown preset '" + name + "' (tiny, small, base, large)");
  }
  return c;
}

inference::ModelConfig LlamaTrainerConfig::to_inference() const {
  return inference::ModelConfig::parse(to_config_json().dump(), "trainer config");
}

// ---------------------------------------------------------------------------------------------- batches

TrainBatch make_batch(const std::vector<const TrainExample*>& examples, int64_t seq_len, bool pack,
                      const torch::Device& device, float context_weight) {
  if (examples.empty()) throw std::invalid_argument("make_batch: no examples");
  if (seq_len < 2) throw std::invalid_argument("make_batch: seq_len must be at least 2");
  // rows[r] = list of (example, length) laid into row r. Packing is first-fit decreasing: the longest examples
  // first, each into the first row with room, so that fewer rows (less padding) carry the same tokens.
  std::vector<std::vector<std::pair<const TrainExample*, int64_t>>> rows;
  std::vector<int64_t> used;
  std::vector<const TrainExample*> order(examples.begin(), examples.end());
  if (pack)
    std::stable_sort(order.begin(), order.end(),
                     [](const TrainExample* a, const TrainExample* b) { return a->ids.size() > b->ids.size(); });
  for (const auto* e : order) {
    const int64_t n = std::min<int64_t>(seq_len, static_cast<int64_t>(e->ids.size()));
    if (n == 0) continue;
    size_t row = rows.size();
    if (pack)
      for (size_t r = 0; r < rows.size() && row == rows.size(); ++r)
        if (used[r] + n <= seq_len) row = r;
    if (row == rows.size()) {
      rows.emplace_back();
      used.push_back(0);
    }
    rows[row].emplace_back(e, n);
    used[row] += n;
  }
  if (rows.empty()) throw std::invalid_argument("make_batch: every example is empty");
  const int64_t B = static_cast<int64_t>(rows.size());
  const int64_t T = *std::max_element(used.begin(), used.end());
  std::vector<int64_t> ids(B * T, 0), positions(B * T, 0), segments(B * T, -1);
  std::vector<float> weights(B * T, 0.0f);
  TrainBatch batch;
  for (int64_t r = 0; r < B; ++r) {
    int64_t at = r * T, segment = 0;
    for (const auto& [e, n] : rows[r]) {
      for (int64_t t = 0; t < n; ++t) {
        ids[at + t] = e->ids[t];
        positions[at + t] = t;
        segments[at + t] = segment;
        // Position t predicts token t+1 of the same example when that token is a target.
        if (t + 1 < n && e->mask[t + 1]) {
          weights[at + t] = 1.0f;
          ++batch.targets;
        } else if (t + 1 < n) {
          weights[at + t] = context_weight;
        }
      }
      at += n;
      batch.tokens += n;
      ++segment;
    }
    for (int64_t t = used[r]; t < T; ++t) positions[r * T + t] = t - used[r];  // padding: its own segment
  }
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  batch.ids = torch::tensor(ids, i64).view({B, T}).to(device);
  batch.positions = torch::tensor(positions, i64).view({B, T}).to(device);
  batch.segments = torch::tensor(segments, i64).view({B, T}).to(device);
  batch.weights = torch::tensor(weights, torch::kFloat32).view({B, T}).to(device);
  return batch;
}

// ---------------------------------------------------------------------------------------------- model

torch::Tensor LlamaTrainer::add(const std::string& name, std::vector<int64_t> shape) {
  auto t = torch::empty(shape, torch::kFloat32);
  params_.emplace_back(name, t);
  return t;
}

LlamaTrainer::LlamaTrainer(const LlamaTrainerConfig& config, uint64_t seed, const torch::Device& device)
    : config_(config), device_(device), rope_((config.validate(), config.to_inference())) {
  const auto& c = config_;
  const int64_t H = c.hidden_size, D = c.resolved_head_dim(), I = c.intermediate_size;
  const int64_t q_out = c.num_attention_heads * D, kv_out = c.num_key_value_heads * D;
  auto gen = at::detail::createCPUGenerator(seed);
  const double std = c.initializer_range;
  const double scaled = std / std::sqrt(2.0 * static_cast<double>(c.num_hidden_layers));
  auto normal = [&](const std::string& name, std::vector<int64_t> shape, double s) {
    auto t = add(name, std::move(shape));
    torch::NoGradGuard g;
    t.normal_(0.0, s, gen);
  };
  auto fill = [&](const std::string& name, std::vector<int64_t> shape, double v) {
    auto t = add(name, std::move(shape));
    torch::NoGradGuard g;
    t.fill_(v);
  };
  normal("model.embed_tokens.weight", {c.vocab_size, H}, std);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    normal(p + "self_attn.q_proj.weight", {q_out, H}, std);
    if (c.attention_bias) fill(p + "self_attn.q_proj.bias", {q_out}, 0);
    normal(p + "self_attn.k_proj.weight", {kv_out, H}, std);
    if (c.attention_bias) fill(p + "self_attn.k_proj.bias", {kv_out}, 0);
    normal(p + "self_attn.v_proj.weight", {kv_out, H}, std);
    if (c.attention_bias) fill(p + "self_attn.v_proj.bias", {kv_out}, 0);
    normal(p + "self_attn.o_proj.weight", {H, q_out}, scaled);
    normal(p + "mlp.gate_proj.weight", {I, H}, std);
    normal(p + "mlp.up_proj.weight", {I, H}, std);
    normal(p + "mlp.down_proj.weight", {H, I}, scaled);
    fill(p + "input_layernorm.weight", {H}, 1);
    fill(p + "post_attention_layernorm.weight", {H}, 1);
  }
  fill("model.norm.weight", {H}, 1);
  if (!c.tie_word_embeddings) normal("lm_head.weight", {c.vocab_size, H}, std);

  for (auto& [name, t] : params_) t = t.to(device_).set_requires_grad(true);
  embed_ = parameter("model.embed_tokens.weight");
  final_norm_ = parameter("model.norm.weight");
  lm_head_ = c.tie_word_embeddings ? embed_ : parameter("lm_head.weight");
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer l;
    l.input_norm = parameter(p + "input_layernorm.weight");
    l.post_norm = parameter(p + "post_attention_layernorm.weight");
    l.q = parameter(p + "self_attn.q_proj.weight");
    l.k = parameter(p + "self_attn.k_proj.weight");
    l.v = parameter(p + "self_attn.v_proj.weight");
    l.o = parameter(p + "self_attn.o_proj.weight");
    l.q_bias = parameter(p + "self_attn.q_proj.bias");
    l.k_bias = parameter(p + "self_attn.k_proj.bias");
    l.v_bias = parameter(p + "self_attn.v_proj.bias");
    l.gate = parameter(p + "mlp.gate_proj.weight");
    l.up = parameter(p + "mlp.up_proj.weight");
    l.down = parameter(p + "mlp.down_proj.weight");
    layers_.push_back(l);
  }
}

LlamaTrainer LlamaTrainer::load_checkpoint(const std::filesystem::path& dir, const torch::Device& device) {
  const auto config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path)) throw std::runtime_error(config_path.string() + ": missing");
  json j;
  try {
    j = json::parse(read_file(config_path));
  } catch (const json::exception& e) {
    throw std::runtime_error(config_path.string() + ": not valid JSON: " + e.what());
  }
  auto config = LlamaTrainerConfig::from_json(j, config_path.string());
  const auto gen_path = dir / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    json g;
    try {
      g = json::parse(read_file(gen_path));
    } catch (const json::exception& e) {
      throw std::runtime_error(gen_path.string() + ": not valid JSON: " + e.what());
    }
    if (g.is_object()) {
      json ids = json::object();
      if (g.contains("bos_token_id")) ids["bos_token_id"] = g["bos_token_id"];
      if (g.contains("eos_token_id")) ids["eos_token_id"] = g["eos_token_id"];
      auto merged = j;
      merged.update(ids);
      auto with_gen = LlamaTrainerConfig::from_json(merged, gen_path.string());
      if (with_gen.bos_token_id) config.bos_token_id = with_gen.bos_token_id;
      if (!with_gen.eos_token_ids.empty()) config.eos_token_ids = with_gen.eos_token_ids;
    }
  }
  LlamaTrainer m(config, 0, torch::kCPU);
  const auto weights = dir / "model.safetensors";
  if (!std::filesystem::exists(weights)) throw std::runtime_error(weights.string() + ": missing");
  {
    torch::NoGradGuard g;
    for (auto& [name, t] : m.params_) {
      auto loaded = inference::read_tensor(weights, name);
      if (loaded.sizes() != t.sizes()) {
        std::ostringstream s;
        s << weights.string() << ": " << name << " has shape " << loaded.sizes() << ", config.json expects "
          << t.sizes();
        throw std::runtime_error(s.str());
      }
      t.copy_(loaded.to(torch::kFloat32));
    }
  }
  if (device == torch::Device(torch::kCPU)) return m;
  LlamaTrainer moved(config, 0, device);
  {
    torch::NoGradGuard g;
    for (size_t i = 0; i < m.params_.size(); ++i) moved.params_[i].second.copy_(m.params_[i].second);
  }
  return moved;
}

std::vector<torch::Tensor> LlamaTrainer::parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : params_) out.push_back(t);
  return out;
}

torch::Tensor LlamaTrainer::parameter(const std::string& name) const {
  for (const auto& [n, t] : params_)
    if (n == name) return t;
  return {};
}

torch::Tensor LlamaTrainer::rms_norm(const torch::Tensor& x, const torch::Tensor& weight) const {
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return weight * normed.to(x.scalar_type());
}

torch::Tensor LlamaTrainer::attention(int64_t index, const torch::Tensor& x, const torch::Tensor& cos,
                                      const torch::Tensor& sin, const AttentionMask& mask) const {
  const Layer& l = layers_[index];
  const int64_t B = x.size(0), T = x.size(1), Hq = config_.num_attention_heads, Hkv = config_.num_key_value_heads;
  const int64_t D = config_.resolved_head_dim(), G = Hq / Hkv;
  auto q = torch::linear(x, l.q, l.q_bias).view({B, T, Hq, D}).transpose(1, 2);  // [B, Hq, T, D]
  auto k = torch::linear(x, l.k, l.k_bias).view({B, T, Hkv, D}).transpose(1, 2);
  auto v = torch::linear(x, l.v, l.v_bias).view({B, T, Hkv, D}).transpose(1, 2);
  q = inference::Rope::apply(q, cos, sin);  // tables [B, 1, T, D] broadcast over heads
  k = inference::Rope::apply(k, cos, sin);
  if (G > 1) {  // query head h reads KV head h / G, as the engine's GQA
    k = k.unsqueeze(2).expand({B, Hkv, G, T, D}).reshape({B, Hq, T, D});
    v = v.unsqueeze(2).expand({B, Hkv, G, T, D}).reshape({B, Hq, T, D});
  }
  torch::Tensor out;  // [B, Hq, T, D]
#if CHORUS_TRAIN_HAS_SDPA
  out = at::scaled_dot_product_attention(q, k, v, mask.allowed);
#else
  // Per query block, only the keys it can see: causal attention computes about half of the [T, T] scores, and
  // packed short examples far less. The keys left out are masked (-inf) in the full form, so the softmax is
  // the same. Rows packed differently are computed one by one, each with its own blocks: a row of short
  // examples then skips the keys that a long example in another row needs.
  q = q * (1.0 / std::sqrt(static_cast<double>(D)));
  auto blocks_of = [&](const torch::Tensor& rq, const torch::Tensor& rk, const torch::Tensor& rv,
                       const torch::Tensor& allowed, const std::vector<std::array<int64_t, 3>>& blocks) {
    std::vector<torch::Tensor> parts;
    parts.reserve(blocks.size());
    for (const auto& [qb, qe, kb] : blocks) {
      auto scores = torch::matmul(rq.narrow(2, qb, qe - qb), rk.narrow(2, kb, qe - kb).transpose(-2, -1));
      // In place: the matmul's backward needs its inputs, not its output.
      scores.masked_fill_(allowed.narrow(2, qb, qe - qb).narrow(3, kb, qe - kb).logical_not(),
                          -std::numeric_limits<float>::infinity());
      parts.push_back(torch::matmul(torch::softmax(scores, -1), rv.narrow(2, kb, qe - kb)));
    }
    return parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
  };
  if (!mask.rows_differ) {
    out = blocks_of(q, k, v, mask.allowed, mask.blocks.front());
  } else {
    std::vector<torch::Tensor> rows;
    rows.reserve(static_cast<size_t>(B));
    for (int64_t r = 0; r < B; ++r)
      rows.push_back(blocks_of(q.narrow(0, r, 1), k.narrow(0, r, 1), v.narrow(0, r, 1),
                               mask.allowed.narrow(0, r, 1), mask.blocks[static_cast<size_t>(r)]));
    out = torch::cat(rows, 0);
  }
#endif
  return torch::linear(out.transpose(1, 2).reshape({B, T, Hq * D}), l.o);
}

namespace {

// Query blocks {q_begin, q_end, k_begin} of one row of segments: a query sees no key after it (causal) and
// none before the start of its example's run of equal segment ids, so block [q_begin, q_end) needs keys
// [k_begin, q_end) with k_begin the run start of q_begin. When the row repeats a segment id after another one
// (not a packed layout), every block starts at key 0.
std::vector<std::array<int64_t, 3>> row_attention_blocks(const int64_t* row, int64_t T) {
  constexpr int64_t kQueryBlock = 128;
  std::vector<std::array<int64_t, 3>> blocks;
  std::vector<int64_t> seen;
  bool runs = true;
  int64_t run_start = 0;
  for (int64_t t = 0; t < T && runs; ++t) {
    if (t > 0 && row[t] != row[t - 1]) {
      seen.push_back(row[t - 1]);
      runs = std::find(seen.begin(), seen.end(), row[t]) == seen.end();
      run_start = t;
    }
    if (t % kQueryBlock == 0) blocks.push_back({t, std::min(T, t + kQueryBlock), run_start});
  }
  if (!runs) {
    blocks.clear();
    for (int64_t qb = 0; qb < T; qb += kQueryBlock) blocks.push_back({qb, std::min(T, qb + kQueryBlock), 0});
  }
  return blocks;
}

// Each row's query blocks for segments [B, T] (one block {0, T, 0} per row where scaled_dot_product_attention
// takes the whole mask).
std::vector<std::vector<std::array<int64_t, 3>>> attention_blocks(const torch::Tensor& segments) {
  const int64_t B = segments.size(0), T = segments.size(1);
  std::vector<std::vector<std::array<int64_t, 3>>> blocks;
  if (!CHORUS_TRAIN_HAS_SDPA && T > 0 && B > 0) {
    auto seg = segments.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t* s = seg.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b) blocks.push_back(row_attention_blocks(s + b * T, T));
  } else {
    blocks.assign(static_cast<size_t>(std::max<int64_t>(B, 1)), {{0, T, 0}});
  }
  return blocks;
}

}  // namespace

torch::Tensor LlamaTrainer::forward(const torch::Tensor& ids, const torch::Tensor& positions,
                                    const torch::Tensor& segments) const {
  return torch::linear(hidden(ids, positions, segments), lm_head_);
}

torch::Tensor LlamaTrainer::hidden(const torch::Tensor& ids_in, const torch::Tensor& positions_in,
                                   const torch::Tensor& segments_in) const {
  if (ids_in.dim() != 2) throw std::invalid_argument("LlamaTrainer::forward: ids must be [batch, seq]");
  auto ids = ids_in.to(device_, torch::kInt64);
  const int64_t B = ids.size(0), T = ids.size(1);
  auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device_);
  auto positions = positions_in.defined() ? positions_in.to(device_, torch::kInt64)
                                          : torch::arange(T, i64).unsqueeze(0).expand({B, T});
  auto segments = segments_in.defined() ? segments_in.to(device_, torch::kInt64) : torch::zeros({B, T}, i64);
  // Same example and key position <= query position: [B, 1, T, T] (true = may attend).
  auto causal = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(device_)).tril();
  AttentionMask mask;
  mask.allowed = (segments.unsqueeze(2) == segments.unsqueeze(1)).logical_and(causal).unsqueeze(1);
  mask.blocks = attention_blocks(segments);
  mask.rows_differ = std::any_of(mask.blocks.begin(), mask.blocks.end(),
                                 [&](const auto& row) { return row != mask.blocks.front(); });
  auto [cos, sin] = rope_.tables(positions.reshape({B * T}), torch::kFloat32);
  cos = cos.view({B, 1, T, -1});
  sin = sin.view({B, 1, T, -1});

  auto h = torch::embedding(embed_, ids);  // [B, T, H]
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const Layer& l = layers_[i];
    h = h + attention(i, rms_norm(h, l.input_norm), cos, sin, mask);
    auto x = rms_norm(h, l.post_norm);
    h = h + torch::linear(torch::silu(torch::linear(x, l.gate)) * torch::linear(x, l.up), l.down);
  }
  return rms_norm(h, final_norm_);
}

torch::Tensor LlamaTrainer::loss(const TrainBatch& batch) const {
  auto h = hidden(batch.ids, batch.positions, batch.segments);  // [B, T, H]
  const int64_t B = h.size(0), T = h.size(1), H = h.size(2);
  if (T < 2) return h.sum() * 0.0;
  // Only the predictions that count go through the lm_head: a prediction of weight 0 adds nothing to the loss
  // or its gradient, and in the tool curriculum most positions (prompts, tool results, filler) weigh 0.
  auto w = batch.weights.to(device_).narrow(1, 0, T - 1).reshape({B * (T - 1)});
  auto counted = w.nonzero().squeeze(1);
  if (counted.numel() == 0) return h.sum() * 0.0;
  auto pred =
      torch::linear(h.narrow(1, 0, T - 1).reshape({B * (T - 1), H}).index_select(0, counted), lm_head_);
  auto target = batch.ids.to(device_).narrow(1, 1, T - 1).reshape({B * (T - 1)}).index_select(0, counted);
  auto nll = torch::nn::functional::cross_entropy(
      pred, target, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  auto wc = w.index_select(0, counted);
  return (nll * wc).sum() / wc.sum().clamp_min(1.0);
}

torch::Tensor LlamaTrainer::loss(const torch::Tensor& ids, const torch::Tensor& mask) const {
  if (ids.dim() != 2 || mask.sizes() != ids.sizes())
    throw std::invalid_argument("LlamaTrainer::loss: ids and mask must both be [batch, seq]");
  TrainBatch b;
  b.ids = ids.to(device_, torch::kInt64);
  const int64_t B = ids.size(0), T = ids.size(1);
  b.positions = torch::arange(T, torch::TensorOptions().dtype(torch::kInt64).device(device_)).unsqueeze(0).expand({B, T});
  b.segments = torch::zeros({B, T}, torch::TensorOptions().dtype(torch::kInt64).device(device_));
  // weights[t] = mask[t + 1]
  auto m = mask.to(device_, torch::kFloat32);
  b.weights = torch::cat({m.narrow(1, 1, T - 1), torch::zeros({B, 1}, m.options())}, 1);
  return loss(b);
}

void LlamaTrainer::save_hf(const std::filesystem::path& dir, torch::Dtype dtype,
                           const std::map<std::string, std::string>& metadata) const {
  const char* dtype_name = dtype_config_name(dtype);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(dir.string() + ": cannot create the directory" + (ec ? " (" + ec.message() + ")" : ""));
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  {
    torch::NoGradGuard g;
    for (const auto& [name, t] : params_) tensors.emplace_back(name, t.detach().to(torch::kCPU, dtype).contiguous());
  }
  auto meta = metadata;
  meta["format"] = "pt";
  inference::write_safetensors(dir / "model.safetensors", tensors, meta);
  write_atomically(dir / "config.json", config_.to_config_json(dtype_name).dump(2) + "\n");
  json gen;
  gen["bos_token_id"] = config_.bos_token_id ? json(*config_.bos_token_id) : json(nullptr);
  if (config_.eos_token_ids.size() == 1) gen["eos_token_id"] = config_.eos_token_ids[0];
  else if (config_.eos_token_ids.empty()) gen["eos_token_id"] = nullptr;
  else gen["eos_token_id"] = config_.eos_token_ids;
  write_atomically(dir / "generation_config.json", gen.dump(2) + "\n");
}

}  // namespace chorus::training
