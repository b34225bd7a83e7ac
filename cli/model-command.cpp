// chorus model info|logits|generate: inspect and run a Hugging Face model directory.
#include "cli/command-registry.h"
#include "cli/inference-args.h"
#include "cli/model-files.h"
#include "inference/generator.h"
#include "inference/model.h"
#include "inference/safetensors.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <set>

namespace chorus::cli {
namespace {

using nlohmann::json;

json model_info(const std::filesystem::path& dir) {
  auto c = inference::ModelConfig::load(dir);
  auto weights = inference::WeightFiles::open(dir);
  int64_t parameters = 0;
  std::set<std::string> dtypes;
  for (const auto& name : weights.names()) {
    const auto* t = weights.find(name);
    if (c.tie_word_embeddings && name == "lm_head.weight") continue;
    parameters += t->numel();
    dtypes.insert(inference::dtype_name(t->dtype));
  }
  json rope = nullptr;
  if (c.rope_scaling.type == inference::RopeScaling::Type::linear)
    rope = {{"type", "linear"}, {"factor", c.rope_scaling.factor}};
  else if (c.rope_scaling.type == inference::RopeScaling::Type::llama3)
    rope = {{"type", "llama3"}, {"factor", c.rope_scaling.factor},
            {"low_freq_factor", c.rope_scaling.low_freq_factor}, {"high_freq_factor", c.rope_scaling.high_freq_factor},
            {"original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings}};
  return {{"architecture", inference::architecture_name(c.architecture)},
          {"architectures", json::array({c.architecture_name})},
          {"parameters", parameters},
          {"dtype", dtypes.size() == 1 ? *dtypes.begin() : "mixed"},
          {"torch_dtype", c.torch_dtype},
          {"layers", c.num_layers},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"heads", c.num_heads},
          {"kv_heads", c.num_kv_heads},
          {"head_dim", c.head_dim},
          {"vocab_size", c.vocab_size},
          {"max_position_embeddings", c.max_position_embeddings},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", rope},
          {"tie_word_embeddings", c.tie_word_embeddings},
          {"sliding_window", c.sliding_window},
          {"bos_token_id", c.bos_token_id ? json(*c.bos_token_id) : json(nullptr)},
          {"eos_token_ids", c.eos_token_ids},
          {"has_tokenizer", std::filesystem::exists(dir / "tokenizer.json")}};
}

void install_model_command(CLI::App& root) {
  auto* model = root.add_subcommand("model", "Inspect and run a Hugging Face model directory (Llama, Qwen2, Mistral)");
  model->require_subcommand(1);

  static std::string info_dir;
  auto* info = model->add_subcommand("info", "Print a JSON summary: architecture, parameters, dtype, layers, heads, vocab");
  info->add_option("--model", info_dir, "Model directory")->required();
  info->callback([] { run_reporting_errors("model info", [] { std::cout << model_info(info_dir).dump(2) << "\n"; }); });

  static std::string logits_dir, logits_ids;
  static std::string logits_device = "cpu";
  auto* logits = model->add_subcommand("logits", "Print {\"logits\": [[vocab floats] per input position]} (float32)");
  logits->add_option("--model", logits_dir, "Model directory")->required();
  logits->add_option("--ids", logits_ids, "Comma-separated token ids, e.g. 1,2,3")->required();
  add_device_option(logits, logits_device);
  logits->callback([] {
    run_reporting_errors("model logits", [] {
      auto ids = parse_ids(logits_ids, "--ids");
      auto m = inference::Model::load(logits_dir, load_options(logits_device));
      auto cache = m->new_cache();
      auto out = m->forward(ids, cache).contiguous();
      const float* p = out.data_ptr<float>();
      const int64_t rows = out.size(0), cols = out.size(1);
      std::string text = "{\"logits\": [";
      for (int64_t r = 0; r < rows; ++r) {
        text += r ? ",\n[" : "\n[";
        for (int64_t c = 0; c < cols; ++c) {
          if (c) text += ",";
          text += json(static_cast<double>(p[r * cols + c])).dump();
        }
        text += "]";
      }
      std::cout << text << "\n]}\n";
    });
  });

  static std::string gen_dir, gen_ids, gen_prompt, gen_chat;
  static std::string gen_device = "cpu";
  static int64_t gen_max_new = 128;
  static inference::SamplingParams gen_sampling{.temperature = 0};
  static std::vector<std::string> gen_stops;
  auto* generate = model->add_subcommand(
      "generate", "Generate tokens; prints {\"ids\", \"text\", \"prompt_tokens\", \"tokens_per_second\", \"finish_reason\"}");
  generate->add_option("--model", gen_dir, "Model directory")->required();
  auto* ids_opt = generate->add_option("--ids", gen_ids, "Prompt as comma-separated token ids");
  auto* prompt_opt = generate->add_option("--prompt", gen_prompt, "Prompt text (encoded with special tokens, e.g. BOS)");
  auto* chat_opt = generate->add_option("--chat", gen_chat, "JSON file {\"messages\": [...], \"tools\": [...]} rendered "
                                                           "with the model's chat template (generation prompt on)");
  ids_opt->excludes(prompt_opt)->excludes(chat_opt);
  prompt_opt->excludes(chat_opt);
  generate->add_option("--max-new-tokens", gen_max_new, "Most tokens to generate")->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  generate->add_option("--temperature", gen_sampling.temperature, "0 = greedy (the default)")->capture_default_str();
  generate->add_option("--top-p", gen_sampling.top_p, "Nucleus sampling mass (1 = off)")->capture_default_str();
  generate->add_option("--top-k", gen_sampling.top_k, "Keep the k most likely tokens (0 = off)")->capture_default_str();
  generate->add_option("--min-p", gen_sampling.min_p, "Drop tokens below min_p x the top probability")->capture_default_str();
  generate->add_option("--repetition-penalty", gen_sampling.repetition_penalty, "HF repetition penalty (1 = off)")
      ->capture_default_str();
  generate->add_option("--seed", gen_sampling.seed, "Random seed")->capture_default_str();
  generate->add_option("--stop", gen_stops, "A stop string (repeatable)");
  add_device_option(generate, gen_device);
  generate->callback([] {
    run_reporting_errors("model generate", [] {
      if (gen_ids.empty() && gen_prompt.empty() && gen_chat.empty())
        throw std::invalid_argument("give the prompt with --ids, --prompt or --chat");
      auto m = inference::Model::load(gen_dir, load_options(gen_device));
      std::optional<inference::Tokenizer> tokenizer;
      if (std::filesystem::exists(std::filesystem::path(gen_dir) / "tokenizer.json") || gen_ids.empty())
        tokenizer.emplace(load_tokenizer(gen_dir));
      inference::GenerationRequest request;
      request.sampling = gen_sampling;
      request.max_new_tokens = gen_max_new;
      request.stop_strings = gen_stops;
      request.stop_token_ids = m->config().eos_token_ids;
      if (!gen_ids.empty()) {
        request.prompt = parse_ids(gen_ids, "--ids");
      } else {
        const bool chat = !gen_chat.empty();
        std::string text = chat ? render_chat(gen_dir, read_json_file(gen_chat), /*default=*/true) : gen_prompt;
        for (auto id : tokenizer->encode(text, /*add_special_tokens=*/!chat)) request.prompt.push_back(id);
      }
      if (tokenizer) {
        auto config = inference::TokenizerConfig::load(gen_dir);
        if (config.eos_token)
          if (auto eos = tokenizer->token_to_id(*config.eos_token)) request.stop_token_ids.push_back(*eos);
      }
      auto cache = m->new_cache();
      auto result = inference::generate(*m, tokenizer ? &*tokenizer : nullptr, cache, request);
      json out = {{"ids", result.ids},
                  {"text", result.text},
                  {"prompt_tokens", result.prompt_tokens},
                  {"tokens_per_second", result.decode_tokens_per_second()},
                  {"prefill_seconds", result.prefill_seconds},
                  {"finish_reason", result.finish_reason}};
      std::cout << out.dump(2) << "\n";
    });
  });
}

}  // namespace

CHORUS_CLI_COMMAND(model, 30, install_model_command);

}  // namespace chorus::cli
