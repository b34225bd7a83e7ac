#pragma once
// The process-wide cache of models the local provider runs: each (directory, device, dtype) is loaded once and
// shared by every provider instance; generation on one model is serialized by its mutex.
#include "inference/chat-template.h"
#include "inference/model.h"
#include "inference/token-trie.h"
#include "inference/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chorus::agents {

// A model directory loaded for chat.
struct LocalModel {
  std::filesystem::path dir;
  std::unique_ptr<inference::Model> model;
  std::unique_ptr<inference::Tokenizer> tokenizer;
  std::unique_ptr<inference::ChatTemplate> chat_template;
  std::vector<int64_t> stop_ids;  // generation_config.json's eos ids plus tokenizer_config.json's eos_token
  std::mutex generation;          // held while generating: one generation at a time per model
  std::shared_ptr<const inference::TokenTrie> token_trie;  // built on first constrained call, under `generation`
};

// The model of `dir` on `device` (cpu | cuda | cuda:N) in `dtype` ("" = float32 on CPU, bfloat16 on CUDA; else
// float32 | bfloat16 | float16), loaded on first use. Throws LlmError naming the file and the fix.
std::shared_ptr<LocalModel> shared_local_model(const std::filesystem::path& dir, const std::string& device,
                                               const std::string& dtype);
// How many model loads this process has done (a shared model counts once).
int local_model_loads();
// How many models the cache holds.
size_t local_model_cache_size();

}  // namespace chorus::agents
