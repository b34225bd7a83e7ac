#pragma once
// Reading one named tensor of a .safetensors file into an owned CPU torch tensor.
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace chorus::inference {

// The tensor `name` of `file` (or the file's only tensor when `name` is empty), copied, in its stored dtype
// (float, integer or bool). Throws SafetensorsError naming the file when it is bad or lacks the tensor.
torch::Tensor read_tensor(const std::filesystem::path& file, const std::string& name = "");

}  // namespace chorus::inference
