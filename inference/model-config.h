#pragma once
// ModelConfig: the fields of a Hugging Face config.json + generation_config.json the engine uses.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chorus::inference {

// A problem with a model directory; the message names the file and field.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// RoPE frequency scaling (rope_scaling / rope_parameters).
struct RopeScaling {
  enum class Type { none, linear, llama3 } type = Type::none;
  double factor = 1.0;
  double low_freq_factor = 1.0;                  // llama3
  double high_freq_factor = 4.0;                 // llama3
  double original_max_position_embeddings = 8192;  // llama3
};

enum class Architecture { llama, qwen2, mistral };

struct ModelConfig {
  Architecture architecture = Architecture::llama;
  std::string architecture_name;  // as in config.json, e.g. "LlamaForCausalLM"
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v (+o for llama) biases
  bool mlp_bias = false;
  std::vector<int64_t> sliding_window;  // per layer; 0 = no window
  std::string torch_dtype = "float32";
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // generation_config.json's, else config.json's

  // Sampling defaults from generation_config.json (absent fields keep these).
  std::optional<double> default_temperature, default_top_p;
  std::optional<int64_t> default_top_k;

  // Reads config.json (+ generation_config.json when present) from `dir`; throws ModelError.
  static ModelConfig load(const std::filesystem::path& dir);
  // Parses config.json text; `file` names it in messages.
  static ModelConfig parse(const std::string& config_json, const std::string& file);
  // Layer i's sliding window (0 = none).
  int64_t window(int64_t layer) const { return sliding_window.empty() ? 0 : sliding_window[layer]; }
};

// "llama", "qwen2", "mistral".
const char* architecture_name(Architecture arch);

}  // namespace chorus::inference
