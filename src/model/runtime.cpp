#include "model/runtime.h"

#include "core/error.h"
#include "core/platform.h"

namespace structlm::model {

int init_threads(int threads) {
  int n = threads > 0 ? threads : available_cores();
  torch::set_num_threads(n);
  return n;
}

torch::Device resolve_device(const std::string& name) {
  if (name == "auto" || name.empty()) return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::kCPU;
  torch::Device d(torch::kCPU);
  try {
    d = torch::Device(name);
  } catch (const std::exception&) {
    throw Error("--device: unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N)");
  }
  if (d.is_cuda()) {
    if (!torch::cuda::is_available()) throw Error("--device " + name + ": CUDA is not available on this machine");
    if (d.has_index() && d.index() >= (int)torch::cuda::device_count())
      throw Error("--device " + name + ": only " + std::to_string(torch::cuda::device_count()) + " CUDA devices");
  }
  return d;
}

}  // namespace structlm::model
