#pragma once
// Writing tensors to a .safetensors file (the Hugging Face format the engine reads).
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace chorus::inference {

// Writes `tensors` (name, tensor; F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL, any device) with `metadata` to
// `path` atomically (a temporary file renamed into place). Throws std::runtime_error naming the file on failure.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace chorus::inference
