#include "inference/tensor-file.h"

#include "inference/safetensors.h"

#include <cstring>

namespace chorus::inference {

torch::Tensor read_tensor(const std::filesystem::path& file, const std::string& name) {
  auto st = SafetensorsFile::open(file);
  const TensorView* view = name.empty() ? nullptr : st->find(name);
  if (name.empty() && st->tensors().size() == 1) view = &st->tensors().begin()->second;
  if (view == nullptr)
    throw SafetensorsError(file.string() + (name.empty() ? ": expected exactly one tensor" : ": no tensor '" + name + "'"));
  torch::Dtype dtype;
  switch (view->dtype) {
    case DType::F64: dtype = torch::kFloat64; break;
    case DType::F32: dtype = torch::kFloat32; break;
    case DType::F16: dtype = torch::kFloat16; break;
    case DType::BF16: dtype = torch::kBFloat16; break;
    case DType::I64: dtype = torch::kInt64; break;
    case DType::I32: dtype = torch::kInt32; break;
    case DType::I16: dtype = torch::kInt16; break;
    case DType::I8: dtype = torch::kInt8; break;
    case DType::U8: dtype = torch::kUInt8; break;
    case DType::BOOL: dtype = torch::kBool; break;
    default: throw SafetensorsError(file.string() + ": tensor '" + view->name + "' has a dtype torch cannot hold");
  }
  // from_blob would not copy; the data section may also be unaligned, so copy bytes first.
  auto bytes = torch::empty({static_cast<int64_t>(view->nbytes)}, torch::kUInt8);
  if (view->nbytes) std::memcpy(bytes.data_ptr(), view->data, view->nbytes);
  return bytes.view(dtype).reshape(view->shape);
}

}  // namespace chorus::inference
