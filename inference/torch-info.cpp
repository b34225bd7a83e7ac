#include "inference/torch-info.h"

#include <torch/torch.h>

namespace chorus::inference {

TorchInfo torch_info() {
  TorchInfo info;
  info.version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                 std::to_string(TORCH_VERSION_PATCH);
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.intra_op_threads = torch::get_num_threads();
  return info;
}

}  // namespace chorus::inference
