#include "train/adamw_kernel.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>

namespace structlm::train {

namespace {

// The scalars as the unfused fp32 ops see them: torch casts a double scalar to the tensor's
// float before it computes.
struct FloatScalars {
  float b1, one_minus_b1, b2, one_minus_b2, eps, decay_factor, neg_step_size, bc2_sqrt, grad_scale;
};

// GCC and clang build one copy of this loop per listed instruction set and pick one when the
// program starts (an ifunc), so the binary stays portable while the loop runs 8 or 16 floats
// wide where the CPU allows. The file is compiled with -ffp-contract=off (CMakeLists.txt): no
// fused multiply-adds, so every clone rounds the same and a run gives the same weights on every
// x86 machine. (torch's own add-with-alpha does use one where the CPU has it: the fused and the
// unfused update differ by an ulp or so, tests/train.)
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void adamw_range(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                 std::int64_t n, FloatScalars s) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * s.grad_scale;  // exact when the scale is 1
    const float pi = p[i] * s.decay_factor;
    const float mi = m[i] * s.b1 + s.one_minus_b1 * gi;
    const float vi = v[i] * s.b2 + (s.one_minus_b2 * gi) * gi;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
    p[i] = pi + (s.neg_step_size * mi) / denom;
  }
}

}  // namespace

bool adamw_fusable(const torch::Tensor& p, const torch::Tensor& g, const torch::Tensor& m, const torch::Tensor& v) {
  for (const auto* t : {&p, &g, &m, &v})
    if (!t->defined() || !t->device().is_cpu() || t->scalar_type() != torch::kFloat || !t->is_contiguous()) return false;
  return g.numel() == p.numel() && m.numel() == p.numel() && v.numel() == p.numel();
}

void adamw_fused(torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m, torch::Tensor& v, const AdamWScalars& s) {
  TORCH_CHECK(adamw_fusable(p, g, m, v), "adamw_fused: needs contiguous fp32 CPU tensors of one size");
  const FloatScalars f{float(s.beta1),     float(1.0 - s.beta1),        float(s.beta2),
                       float(1.0 - s.beta2), float(s.eps),              float(s.decay_factor),
                       float(-s.step_size), float(s.bc2_sqrt),          float(s.grad_scale)};
  float* pp = p.data_ptr<float>();
  const float* gp = g.data_ptr<float>();
  float* mp = m.data_ptr<float>();
  float* vp = v.data_ptr<float>();
  // Chunks of 32k floats (128 KiB per array): large enough to amortise a task, small enough to
  // split a 4M-row embedding table over every thread.
  at::parallel_for(0, p.numel(), 1 << 15, [&](std::int64_t begin, std::int64_t end) {
    adamw_range(pp + begin, gp + begin, mp + begin, vp + begin, end - begin, f);
  });
}

}  // namespace structlm::train
