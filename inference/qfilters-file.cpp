#include "inference/qfilters-file.h"

#include "inference/safetensors.h"

#include <cstring>
#include <stdexcept>

namespace chorus::inference {

torch::Tensor load_stored_qfilters(const std::filesystem::path& file) {
  auto st = SafetensorsFile::open(file);
  const TensorView* view = st->find("q_filters");
  if (view == nullptr && st->tensors().size() == 1) view = &st->tensors().begin()->second;
  if (view == nullptr) throw SafetensorsError(file.string() + ": no tensor 'q_filters'");
  if (view->shape.size() != 3) throw SafetensorsError(file.string() + ": q_filters must be [layers, kv_heads, head_dim]");
  torch::Dtype dtype;
  switch (view->dtype) {
    case DType::F64: dtype = torch::kFloat64; break;
    case DType::F32: dtype = torch::kFloat32; break;
    case DType::F16: dtype = torch::kFloat16; break;
    case DType::BF16: dtype = torch::kBFloat16; break;
    default: throw SafetensorsError(file.string() + ": q_filters must be a float tensor");
  }
  // from_blob does not copy: clone while the mapping is alive. The data section may be unaligned.
  auto bytes = torch::empty({static_cast<int64_t>(view->nbytes)}, torch::kUInt8);
  std::memcpy(bytes.data_ptr(), view->data, view->nbytes);
  return bytes.view(dtype).reshape(view->shape).to(torch::kFloat64);
}

}  // namespace chorus::inference
