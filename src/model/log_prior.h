// CSTDE's attention weights (docs/METHODS.md §1b): per head h, a softmax over keys of the logits
// plus a per-head multiple of one shared log-prior,
//   P[b, h, t, :] = softmax(att[b, h, t, :] + beta[h] * log(D[b, t, :] + eps)).
//
// Fused on the CPU for fp32 and bf16 logits: one pass per row (b, t) reads the logits and writes
// the probabilities in the logits' dtype, where the ops it replaces wrote two fp32 [B, H, T, Tk]
// tensors (addcmul promotes bf16 logits to fp32; then softmax) and autocast a third (the bf16
// copy for the value matmul). The backward is one pass too: per row it forms softmax's gradient
// for every head, sums beta[h] times it over the heads into dL/dD and its product with
// log(D + eps) into dL/dbeta, where autograd ran six ops over [B, H, T, Tk]. Measured by
// bench/ops_bench ("log-prior softmax" lines). Other dtypes and devices take the unfused ops.
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// att: [B, H, T, Tk] (-inf where a key is masked); beta: [H]; D: [B, T, Tk] (a distribution over
// keys, >= 0). Differentiable in all three; the result has att's dtype and shape.
torch::Tensor log_prior_softmax(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D, double eps);

// The same through autograd's own ops, computed in fp32 or wider and returned in att's dtype (the
// reference of the tests and the bench).
torch::Tensor log_prior_softmax_unfused(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D,
                                        double eps);

namespace detail {
// The exponential the fused loops use (exposed for its test): relative error below 2e-7 on
// [-87, 0], exactly 0 below -87 (so -inf logits give 0).
float softmax_exp(float x);
}  // namespace detail

}  // namespace structlm::model
