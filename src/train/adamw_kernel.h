// One AdamW update of one parameter in a single pass over its memory, for contiguous fp32 CPU
// tensors. The unfused update (optimizer.cpp) runs seven torch ops, each a pass over the weight,
// gradient or moments, three of them writing a temporary as large as the weight; this loop reads
// p, g, m, v once and writes p, m, v once. Same arithmetic, in the same order, in fp32.
#pragma once
#include <torch/torch.h>

namespace structlm::train {

struct AdamWScalars {
  double beta1, beta2, eps;
  double decay_factor;  // 1 - lr * weight_decay (1 for the no-decay group)
  double step_size;     // lr / (1 - beta1^t)
  double bc2_sqrt;      // sqrt(1 - beta2^t)
  double grad_scale;    // multiplies the gradient first (gradient clipping); 1 = none
};

// Whether adamw_fused can update this parameter (contiguous fp32 on the CPU, and so are g, m, v).
bool adamw_fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v);

// p, m, v updated in place from g:
//   g' = g * grad_scale;  p *= decay_factor;  m = beta1 m + (1 - beta1) g';
//   v = beta2 v + (1 - beta2) g'^2;  p -= step_size * m / (sqrt(v) / bc2_sqrt + eps)
void adamw_fused(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v, const AdamWScalars& s);

}  // namespace structlm::train
