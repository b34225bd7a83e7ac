#include "cli/inference-args.h"

#include "cli/command-registry.h"

#include <iostream>

namespace chorus::cli {

std::vector<int64_t> parse_ids(const std::string& text, const std::string& option) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) {
      if (end == text.size() && !ids.empty()) break;
      throw std::invalid_argument(option + ": empty item; expected comma-separated integers like 1,2,3");
    }
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 0)
      throw std::invalid_argument(option + ": '" + item + "' is not a non-negative integer");
    ids.push_back(value);
    start = end + 1;
  }
  if (ids.empty()) throw std::invalid_argument(option + ": no ids given");
  return ids;
}

void add_device_option(CLI::App* app, std::string& device) {
  app->add_option("--device", device, "cpu, cuda or cuda:N (CUDA computes in bf16)")->capture_default_str();
}

torch::Device parse_device(const std::string& device) {
  if (device == "cpu") return torch::kCPU;
  if (device.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available())
      throw std::invalid_argument("--device " + device + ": CUDA is not available in this build of libtorch");
    return torch::Device(device);
  }
  throw std::invalid_argument("--device '" + device + "': expected cpu, cuda or cuda:N");
}

inference::LoadOptions load_options(const std::string& device) {
  inference::LoadOptions options;
  options.device = parse_device(device);
  if (options.device.is_cuda()) options.dtype = torch::kBFloat16;
  return options;
}

void run_reporting_errors(const std::string& command, const std::function<void()>& body) {
  try {
    body();
  } catch (const CLI::RuntimeError&) {
    throw;
  } catch (const std::exception& e) {
    std::string message = e.what();
    for (auto& ch : message)
      if (ch == '\n') ch = ' ';
    std::cerr << "chorus " << command << ": error: " << message << "\n";
    exit_with(1);
  }
}

}  // namespace chorus::cli
