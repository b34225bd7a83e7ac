#include "agents/local-model-cache.h"

#include "agents/llm.h"
#include "inference/tokenizer-config.h"

#include <algorithm>
#include <map>

namespace chorus::agents {
namespace {

struct Cache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<LocalModel>> models;
  int loads = 0;
};

Cache& cache() {
  static Cache instance;
  return instance;
}

// An exception's message without libtorch's C++ backtrace.
std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

[[noreturn]] void fail(const std::string& message) { throw LlmError("local provider: " + message, false); }

inference::LoadOptions load_options(const std::string& device, const std::string& dtype) {
  inference::LoadOptions options;
  if (device != "cpu") {
    if (!torch::cuda::is_available())
      fail("llm.device " + device + ": CUDA is not available in this build of libtorch; use device: cpu");
    options.device = torch::Device(device);
    options.dtype = torch::kBFloat16;
  }
  if (dtype == "float32") options.dtype = torch::kFloat32;
  if (dtype == "bfloat16") options.dtype = torch::kBFloat16;
  if (dtype == "float16") options.dtype = torch::kFloat16;
  return options;
}

std::unique_ptr<LocalModel> load(const std::filesystem::path& dir, const std::string& device, const std::string& dtype) {
  auto m = std::make_unique<LocalModel>();
  m->dir = dir;
  const auto config_file = dir / "tokenizer_config.json";
  inference::TokenizerConfig config;
  try {
    config = inference::TokenizerConfig::load(dir);
  } catch (const std::exception& e) {
    fail(message_of(e));
  }
  if (!config.chat_template)
    fail(config_file.string() + ": no 'chat_template' (and no chat_template.jinja), so chat messages cannot be "
         "rendered for this model; add the model's chat template to tokenizer_config.json (or a chat_template.jinja "
         "file) or use an instruction-tuned model that has one");
  inference::ChatTemplateOptions template_options;
  template_options.bos_token = config.bos_token;
  template_options.eos_token = config.eos_token;
  try {
    m->chat_template = std::make_unique<inference::ChatTemplate>(*config.chat_template, template_options);
  } catch (const inference::TemplateError& e) {
    fail(config_file.string() + ": chat_template does not compile: " + e.what());
  }
  const auto tokenizer_file = dir / "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_file))
    fail(tokenizer_file.string() + ": missing; the model directory needs its Hugging Face tokenizer.json");
  try {
    m->tokenizer = std::make_unique<inference::Tokenizer>(inference::Tokenizer::from_file(tokenizer_file));
  } catch (const std::exception& e) {
    fail(message_of(e));
  }
  const auto options = load_options(device, dtype);
  try {
    m->model = inference::Model::load(dir, options);
  } catch (const std::exception& e) {
    fail("loading the model in " + dir.string() + ": " + message_of(e));
  }
  m->stop_ids = m->model->config().eos_token_ids;
  if (config.eos_token)
    if (auto eos = m->tokenizer->token_to_id(*config.eos_token))
      if (std::find(m->stop_ids.begin(), m->stop_ids.end(), *eos) == m->stop_ids.end()) m->stop_ids.push_back(*eos);
  return m;
}

}  // namespace

std::shared_ptr<LocalModel> shared_local_model(const std::filesystem::path& dir, const std::string& device,
                                               const std::string& dtype) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  const std::string effective_dtype = !dtype.empty() ? dtype : device == "cpu" ? "float32" : "bfloat16";
  const std::string key = (ec ? dir : canonical).string() + "\n" + device + "\n" + effective_dtype;
  auto& c = cache();
  std::lock_guard lock(c.mutex);
  if (auto it = c.models.find(key); it != c.models.end()) return it->second;
  std::shared_ptr<LocalModel> loaded = load(dir, device, effective_dtype);
  ++c.loads;
  c.models.emplace(key, loaded);
  return loaded;
}

int local_model_loads() {
  std::lock_guard lock(cache().mutex);
  return cache().loads;
}

size_t local_model_cache_size() {
  std::lock_guard lock(cache().mutex);
  return cache().models.size();
}

}  // namespace chorus::agents
