// Numeric precision of a model's compute: fp32, or bf16 mixed precision the way torch.autocast
// does it (matrix products in bf16, fp32 master weights, fp32 optimizer state, reductions and
// the residual stream in fp32; bf16 has fp32's exponent range, so no loss scaling). Training,
// evaluation, sampling, HCMA's statistics pass and alignment all take the same switch.
#pragma once
#include <torch/torch.h>

#include <string>

#include "model/precision_name.h"

namespace structlm::model {

enum class Precision { fp32, bf16 };

struct PrecisionChoice {
  Precision precision = Precision::fp32;
  std::string why;  // for the run log: "auto: CPU flag avx512_bf16, torch with oneDNN"
  const char* name() const { return precision == Precision::bf16 ? "bf16" : "fp32"; }
};

// Resolves a precision name on `device`. auto picks bf16 where it is faster than fp32: a CUDA
// device (Ampere or later has bf16 tensor cores; on an older GPU ask for fp32), or a CPU whose
// flags show amx_bf16 or avx512_bf16 when torch is built with oneDNN (which holds the bf16
// kernels); fp32 elsewhere. An explicit fp32 or bf16 is honoured anywhere (bf16 on a CPU without
// those flags is emulated: slow but correct). Throws Error for a name that is none of the three.
PrecisionChoice resolve_precision(const std::string& name, const torch::Device& device);

// While alive, torch's autocast runs the eligible ops (linear, matmul, bmm, baddbmm, ...) on
// `device` in bf16, as `with torch.autocast(device_type, dtype=torch.bfloat16):` does; nothing
// for fp32. Nests. Backward needs no guard (autograd keeps each op's dtype). On leaving the
// outermost guard, the bf16 copies of weights that autocast cached are dropped, so the next
// region sees the weights the optimizer has updated since.
class AutocastGuard {
 public:
  AutocastGuard(Precision precision, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

// The dtype a matrix product (autocast's lower-precision list: linear, matmul, ...) will run an
// fp32 `x` in here: bf16 inside an AutocastGuard for bf16 on x's device type, else x's own dtype.
// An op feeding a matrix product writes this directly (model/layer_norm.h) and spares autocast's
// cast.
at::ScalarType matmul_input_dtype(const torch::Tensor& x);

}  // namespace structlm::model
