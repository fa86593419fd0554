// LayerNorm over the last dimension, fused on the CPU for fp32 and bf16, with the output's dtype
// chosen by the caller.
//
// Under bf16 autocast the residual stream stays fp32 while the matrix product after each LayerNorm
// runs in bf16, so torch's route is layer_norm in fp32, a copy down to bf16 for the product, and
// in backward a copy of the bf16 gradient back up to fp32 before layer_norm's backward: two passes
// over the activations per LayerNorm that only change dtype. This kernel reads fp32 and writes
// bf16 in its one forward pass, and its backward reads the bf16 gradient and writes the fp32 one
// (statistics and sums in fp32 throughout). Measured by bench/ops_bench (layer-norm lines).
// fp64, fp16 and other devices call torch's layer_norm (and cast its output).
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// layer_norm(x, [C], weight, bias, eps) over x's last dimension C, the result in `out_dtype`
// (x's dtype when not given). Gradients: x's in x's dtype; weight's and bias's in fp32 (theirs),
// summed over rows in a fixed order, so a step gives the same bits for any thread count.
torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps,
                         c10::optional<at::ScalarType> out_dtype = c10::nullopt);

}  // namespace structlm::model
