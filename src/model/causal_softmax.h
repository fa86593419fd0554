// The plain transformer's attention probabilities in one pass (issue 12):
//   P[n, t, s] = softmax over s <= past + t of (scale * S[n, t, s]), and 0 for s > past + t,
// from the unscaled, unmasked scores S = q k^T.
//
// Fused on the CPU for fp32 and bf16 scores: one pass per row reads the scores and writes the
// probabilities in the scores' dtype. The ops it replaces (baddbmm adding the -inf mask and the
// scale, softmax, and under bf16 autocast the bf16 copy the value matmul takes) wrote an fp32
// [N, T, Tk] tensor twice and read it back; in a profile of the bench model's bf16 step they
// were ~9 % of it (bench/train_bench --profile-shapes 1). The backward is one pass too:
// dS = scale * P * (dP - <dP, P>) per row. Rows keep a fixed summation order, so results do not
// depend on the number of threads. Other dtypes and devices take the unfused ops.
//
// A process setting while it is measured, not a model key: STRUCTLM_FUSED_SOFTMAX=1 turns it on
// in the GPT's attention (model/gpt.cpp); off by default, so runs of an experiment under way
// (issue 14's E1) keep computing what their first runs computed. set_fused_causal_softmax
// overrides the environment (tests, benches).
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace structlm::model {

// S: [..., T, Tk] with Tk >= past + T (keys 0 .. past + T - 1; query t sits at position past + t).
// Differentiable in S; the result has S's dtype and shape.
torch::Tensor causal_softmax(const torch::Tensor& S, double scale, std::int64_t past);

// The same through autograd's own ops in fp32 (the reference of the tests and the bench).
torch::Tensor causal_softmax_unfused(const torch::Tensor& S, double scale, std::int64_t past);

// Whether the GPT's attention uses causal_softmax: the override, else STRUCTLM_FUSED_SOFTMAX (0 or
// 1, read at first use), else off.
bool fused_causal_softmax();
// 1: on, 0: off, negative: back to the environment's setting.
void set_fused_causal_softmax(int on);

}  // namespace structlm::model
