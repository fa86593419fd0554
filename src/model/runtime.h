// Torch process settings: thread count and device choice.
#pragma once
#include <torch/torch.h>

#include <string>

namespace structlm::model {

// Sets torch's intra-op threads to the cores available (Debian's libtorch 1.13 starts at 1)
// unless `threads` > 0 says otherwise. Returns the count in use.
int init_threads(int threads = 0);

// "cpu", "cuda", "cuda:N" or "auto" (CUDA if available, else CPU). Error for an unknown name or
// a CUDA device that is not there.
torch::Device resolve_device(const std::string& name);

}  // namespace structlm::model
