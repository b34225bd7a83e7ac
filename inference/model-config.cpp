#include "inference/model-config.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace chorus::inference {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& field, const std::string& problem) {
  throw ModelError(file + ": " + (field.empty() ? "" : "field '" + field + "': ") + problem);
}

int64_t get_int(const json& j, const std::string& file, const char* key, std::optional<int64_t> fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (fallback) return *fallback;
    fail(file, key, "missing; a Hugging Face config.json must set it");
  }
  if (!it->is_number_integer()) fail(file, key, "expected an integer, got " + it->dump());
  return it->get<int64_t>();
}

double get_double(const json& j, const std::string& file, const char* key, double fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) fail(file, key, "expected a number, got " + it->dump());
  return it->get<double>();
}

bool get_bool(const json& j, const std::string& file, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail(file, key, "expected true or false, got " + it->dump());
  return it->get<bool>();
}

std::vector<int64_t> id_list(const json& v, const std::string& file, const char* key) {
  std::vector<int64_t> out;
  if (v.is_null()) return out;
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (!v.is_array()) fail(file, key, "expected an integer or a list of integers, got " + v.dump());
  for (const auto& x : v) {
    if (!x.is_number_integer()) fail(file, key, "expected a list of integers, got " + v.dump());
    out.push_back(x.get<int64_t>());
  }
  return out;
}

RopeScaling parse_rope(const json& j, const std::string& file) {
  RopeScaling r;
  const json* src = nullptr;
  const char* key = "rope_scaling";
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) src = &j["rope_scaling"];
  else if (j.contains("rope_parameters") && !j["rope_parameters"].is_null()) {
    src = &j["rope_parameters"];
    key = "rope_parameters";
  }
  if (!src) return r;
  if (!src->is_object()) fail(file, key, "expected an object or null");
  std::string type = src->value("rope_type", src->value("type", std::string("default")));
  const std::string f = std::string(key) + ".";
  if (type == "default") return r;
  if (type == "linear") {
    r.type = RopeScaling::Type::linear;
    r.factor = get_double(*src, file, "factor", 1.0);
  } else if (type == "llama3") {
    r.type = RopeScaling::Type::llama3;
    r.factor = get_double(*src, file, "factor", 8.0);
    r.low_freq_factor = get_double(*src, file, "low_freq_factor", 1.0);
    r.high_freq_factor = get_double(*src, file, "high_freq_factor", 4.0);
    r.original_max_position_embeddings = get_double(*src, file, "original_max_position_embeddings", 8192);
    if (r.high_freq_factor <= r.low_freq_factor)
      fail(file, f + "high_freq_factor", "must be greater than low_freq_factor");
  } else {
    fail(file, f + "rope_type", "'" + type + "' is not supported (supported: default, linear, llama3)");
  }
  if (!(r.factor > 0)) fail(file, f + "factor", "must be positive");
  return r;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path.string() + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

const char* architecture_name(Architecture arch) {
  switch (arch) {
    case Architecture::llama: return "llama";
    case Architecture::qwen2: return "qwen2";
    case Architecture::mistral: return "mistral";
  }
  return "?";
}

ModelConfig ModelConfig::parse(const std::string& text, const std::string& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    fail(file, "", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) fail(file, "", "expected a JSON object");
  ModelConfig c;
  if (!j.contains("architectures") || !j["architectures"].is_array() || j["architectures"].empty() ||
      !j["architectures"][0].is_string())
    fail(file, "architectures", "missing; expected e.g. [\"LlamaForCausalLM\"]");
  c.architecture_name = j["architectures"][0].get<std::string>();
  if (c.architecture_name == "LlamaForCausalLM") c.architecture = Architecture::llama;
  else if (c.architecture_name == "Qwen2ForCausalLM") c.architecture = Architecture::qwen2;
  else if (c.architecture_name == "MistralForCausalLM") c.architecture = Architecture::mistral;
  else
    fail(file, "architectures", "'" + c.architecture_name +
                                    "' is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM)");
  if (j.contains("hidden_act") && j["hidden_act"] != "silu")
    fail(file, "hidden_act", j["hidden_act"].dump() + " is not supported (supported: \"silu\")");

  c.vocab_size = get_int(j, file, "vocab_size");
  c.hidden_size = get_int(j, file, "hidden_size");
  c.intermediate_size = get_int(j, file, "intermediate_size");
  c.num_layers = get_int(j, file, "num_hidden_layers");
  c.num_heads = get_int(j, file, "num_attention_heads");
  c.num_kv_heads = get_int(j, file, "num_key_value_heads", c.num_heads);
  for (auto [name, v] : {std::pair{"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size},
                         {"intermediate_size", c.intermediate_size}, {"num_hidden_layers", c.num_layers},
                         {"num_attention_heads", c.num_heads}, {"num_key_value_heads", c.num_kv_heads}})
    if (v <= 0) fail(file, name, "must be positive, got " + std::to_string(v));
  if (c.num_heads % c.num_kv_heads != 0)
    fail(file, "num_key_value_heads", std::to_string(c.num_kv_heads) + " must divide num_attention_heads (" +
                                          std::to_string(c.num_heads) + ")");
  if (j.contains("head_dim") && !j["head_dim"].is_null()) {
    c.head_dim = get_int(j, file, "head_dim");
  } else {
    if (c.hidden_size % c.num_heads != 0)
      fail(file, "hidden_size", "not divisible by num_attention_heads; set head_dim explicitly");
    c.head_dim = c.hidden_size / c.num_heads;
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) fail(file, "head_dim", "must be a positive even number");
  c.rms_norm_eps = get_double(j, file, "rms_norm_eps", 1e-6);
  c.rope_theta = get_double(j, file, "rope_theta", 10000.0);
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object() && j["rope_parameters"].contains("rope_theta"))
    c.rope_theta = get_double(j["rope_parameters"], file, "rope_theta", c.rope_theta);
  c.rope_scaling = parse_rope(j, file);
  c.max_position_embeddings = get_int(j, file, "max_position_embeddings", 2048);
  c.tie_word_embeddings = get_bool(j, file, "tie_word_embeddings", c.architecture == Architecture::qwen2);
  if (c.architecture == Architecture::qwen2) {
    c.attention_bias = true;
  } else if (c.architecture == Architecture::llama) {
    c.attention_bias = get_bool(j, file, "attention_bias", false);
    c.mlp_bias = get_bool(j, file, "mlp_bias", false);
  }
  if (j.contains("torch_dtype") && j["torch_dtype"].is_string()) c.torch_dtype = j["torch_dtype"].get<std::string>();
  if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"].get<int64_t>();
  if (j.contains("eos_token_id")) c.eos_token_ids = id_list(j["eos_token_id"], file, "eos_token_id");

  // Sliding windows, as transformers applies them.
  c.sliding_window.assign(static_cast<size_t>(c.num_layers), 0);
  int64_t window = 0;
  if (c.architecture == Architecture::mistral) {
    window = j.contains("sliding_window") ? (j["sliding_window"].is_null() ? 0 : get_int(j, file, "sliding_window"))
                                          : 4096;
    for (auto& w : c.sliding_window) w = window;
  } else if (c.architecture == Architecture::qwen2 && get_bool(j, file, "use_sliding_window", false)) {
    window = get_int(j, file, "sliding_window", 4096);
    int64_t first = get_int(j, file, "max_window_layers", c.num_layers);
    for (int64_t i = first; i < c.num_layers; ++i) c.sliding_window[i] = window;
  }
  if (j.contains("layer_types") && j["layer_types"].is_array()) {
    const auto& types = j["layer_types"];
    if (static_cast<int64_t>(types.size()) != c.num_layers)
      fail(file, "layer_types", "must have num_hidden_layers entries");
    int64_t w = window ? window : get_int(j, file, "sliding_window", 4096);
    for (int64_t i = 0; i < c.num_layers; ++i)
      c.sliding_window[i] = types[i] == "sliding_attention" ? w : 0;
  }
  for (auto w : c.sliding_window)
    if (w < 0) fail(file, "sliding_window", "must be positive or null");
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw ModelError(dir.string() + ": not a directory; pass a Hugging Face model directory (config.json, *.safetensors)");
  const auto config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path)) throw ModelError(config_path.string() + ": missing");
  ModelConfig c = parse(read_file(config_path), config_path.string());
  const auto gen_path = dir / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    json g;
    try {
      g = json::parse(read_file(gen_path));
    } catch (const json::exception& e) {
      fail(gen_path.string(), "", std::string("not valid JSON: ") + e.what());
    }
    if (g.contains("eos_token_id") && !g["eos_token_id"].is_null())
      c.eos_token_ids = id_list(g["eos_token_id"], gen_path.string(), "eos_token_id");
    if (g.contains("bos_token_id") && g["bos_token_id"].is_number_integer()) c.bos_token_id = g["bos_token_id"].get<int64_t>();
    if (g.contains("temperature") && g["temperature"].is_number()) c.default_temperature = g["temperature"].get<double>();
    if (g.contains("top_p") && g["top_p"].is_number()) c.default_top_p = g["top_p"].get<double>();
    if (g.contains("top_k") && g["top_k"].is_number_integer()) c.default_top_k = g["top_k"].get<int64_t>();
  }
  return c;
}

}  // namespace chorus::inference
