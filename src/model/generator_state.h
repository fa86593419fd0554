// The default CPU generator's state, read or set under its lock. Model construction uses it to
// keep the variants of one seed paired (issue 14): torch's modules draw their own init from the
// global generator as they are built, so a model that builds extra modules (CSTDE's scorers)
// would otherwise shift every draw after them.
#pragma once
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <mutex>

namespace structlm::model {

inline torch::Tensor generator_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

inline void set_generator_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// Puts the generator back where it stood at construction when the scope ends.
class GeneratorRestore {
 public:
  GeneratorRestore() : state_(generator_state()) {}
  ~GeneratorRestore() { set_generator_state(state_); }
  GeneratorRestore(const GeneratorRestore&) = delete;
  GeneratorRestore& operator=(const GeneratorRestore&) = delete;

 private:
  torch::Tensor state_;
};

}  // namespace structlm::model
