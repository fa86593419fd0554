// CSTDE's carried dependency distribution (docs/METHODS.md §1b):
//   D^l = D^{l-1} + gamma (softmax_j(s) - D^{l-1})
// in one fused pass each way on the CPU, where torch ran softmax, a subtraction, a multiply and an
// addition over [B, T, Tk] (and their four backwards). Measured by bench/ops_bench ("carry
// softmax" lines); other dtypes and devices take the unfused ops.
#pragma once
#include <torch/torch.h>

namespace structlm::cstde {

// s: [B, T, Tk] scores (-inf where masked); prev: D^{l-1} [B, T, Tk]; gamma: one element.
// Differentiable in all three. The result is fp32 for fp32 or bf16 inputs (as the unfused ops'
// type promotion with an fp32 gamma gives), wider inputs keep their type.
torch::Tensor carried_softmax(const torch::Tensor& s, const torch::Tensor& prev, const torch::Tensor& gamma);

// The same through autograd's own ops (the reference of the tests and the bench).
torch::Tensor carried_softmax_unfused(const torch::Tensor& s, const torch::Tensor& prev, const torch::Tensor& gamma);

}  // namespace structlm::cstde
