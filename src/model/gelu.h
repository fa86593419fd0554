// GELU (tanh approximation, as GPT-2) whose bf16 and fp16 inputs are computed in fp32.
//
// libtorch 1.13's CPU GELU on bf16 is slower than on fp32 (2,048 x 1,536, 2 threads, 2-core EPYC:
// 8.3 ms against 4.0 ms): it widens and narrows each vector inside the kernel, without the fp32
// kernel's vectorized tanh. Here the input is widened once, torch's fp32 kernels run forward and
// backward, and the result is narrowed once; the saved activation stays in the input's dtype.
// Measured by bench/ops_bench (gelu lines). fp32 and fp64 inputs call torch::gelu unchanged.
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// gelu(x, "tanh"); same value and gradient as torch::gelu(x.to(kFloat), "tanh").to(x.dtype()).
torch::Tensor gelu_tanh(const torch::Tensor& x);

}  // namespace structlm::model
