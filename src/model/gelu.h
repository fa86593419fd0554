// GELU (tanh approximation, as GPT-2), fused on the CPU for fp32 and bf16.
//
// One pass forward and one backward, each computing in fp32 registers and reading and writing
// the tensor's own dtype; tanh(u) = (1 - e) / (1 + e) with e = exp(-2|u|) from the shared
// branch-free exp (model/vector_lanes.h), so every instruction-set clone runs it 8 or 16 lanes
// wide. What it replaces: libtorch 1.13's bf16 GELU is slow and inaccurate (against fp64: mean
// relative error 4 %, max 75 %), and its fp32 GELU runs SLEEF's AVX2 tanh even on AVX-512
// machines; widening bf16 to run the fp32 kernel cost two extra passes and two copies.
// Measured by bench/ops_bench (gelu lines). fp16, fp64 and other devices call torch::gelu
// (fp16 widened to fp32 and narrowed once).
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// gelu(x, "tanh"): the value and gradient of GPT-2's formula, computed in fp32 or wider and
// rounded once to x's dtype.
torch::Tensor gelu_tanh(const torch::Tensor& x);

}  // namespace structlm::model
