#pragma once
// What the linked libtorch provides: version and available compute devices.
#include <string>

namespace chorus::inference {

struct TorchInfo {
  std::string version;      // libtorch version, e.g. "1.13.1"
  bool cuda_available;      // a CUDA device can be used
  int cuda_device_count;    // number of visible CUDA devices
  int intra_op_threads;     // threads libtorch uses for one op
};

// Reads the facts of the libtorch this binary is linked against.
TorchInfo torch_info();

}  // namespace chorus::inference
