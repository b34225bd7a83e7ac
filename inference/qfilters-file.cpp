#include "inference/qfilters-file.h"

#include "inference/safetensors.h"
#include "inference/tensor-file.h"

namespace chorus::inference {

torch::Tensor load_stored_qfilters(const std::filesystem::path& file) {
  auto st = SafetensorsFile::open(file);
  const std::string name = st->find("q_filters") ? "q_filters" : "";
  if (name.empty() && st->tensors().size() != 1) throw SafetensorsError(file.string() + ": no tensor 'q_filters'");
  auto t = read_tensor(file, name);
  if (t.dim() != 3) throw SafetensorsError(file.string() + ": q_filters must be [layers, kv_heads, head_dim]");
  if (!t.is_floating_point()) throw SafetensorsError(file.string() + ": q_filters must be a float tensor");
  return t.to(torch::kFloat64);
}

}  // namespace chorus::inference
