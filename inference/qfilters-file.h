#pragma once
// Reading Q-Filters from the official safetensors file (make_filters.py / kvpress QFilters hub layout).
#include <torch/torch.h>

#include <filesystem>

namespace chorus::inference {

// The stored q_filters [L, n_kv, d] as float64 from `file`: the tensor "q_filters", else the file's only
// tensor. These are the negated filters (kvpress scores -(q_filter . k)): use them with
// PressOptions::filters_stored = true. Throws std::runtime_error (SafetensorsError) on a bad file.
torch::Tensor load_stored_qfilters(const std::filesystem::path& file);

}  // namespace chorus::inference
