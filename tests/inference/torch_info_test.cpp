// The linked libtorch reports itself and runs on CPU.
#include "inference/torch-info.h"

#include <torch/torch.h>
#include <gtest/gtest.h>

namespace chorus::inference {
namespace {

TEST(TorchInfo, ReportsVersionAndThreads) {
  auto info = torch_info();
  EXPECT_EQ(info.version.rfind(std::to_string(TORCH_VERSION_MAJOR) + ".", 0), 0u) << info.version;
  EXPECT_GE(info.intra_op_threads, 1);
  EXPECT_EQ(info.cuda_available, info.cuda_device_count > 0);
}

TEST(TorchInfo, MatmulRunsOnCpu) {
  auto a = torch::arange(6, torch::kFloat32).reshape({2, 3});
  auto b = torch::ones({3, 1});
  auto c = torch::matmul(a, b);
  EXPECT_FLOAT_EQ(c[0][0].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(c[1][0].item<float>(), 12.0f);
}

}  // namespace
}  // namespace chorus::inference
