// Scalar pieces that fused CPU kernels inline into their `omp simd` loops, so that each
// target_clones copy runs them 8 or 16 lanes wide (model/log_prior.cpp, cstde/carry_softmax.cpp).
// A file using them is compiled with -fopenmp-simd -fno-trapping-math (CMakeLists.txt): without
// the second, GCC keeps a select around a multiply as a branch and the loop stays scalar.
#pragma once
#include <c10/util/BFloat16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

// One copy of a function per instruction set, picked when the program starts (an ifunc), as
// train/adamw_kernel.cpp does.
#if defined(__x86_64__) && defined(__GNUC__)
#define STRUCTLM_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define STRUCTLM_VECTOR_CLONES
#endif

namespace structlm::model::lanes {

// e^x for x <= 0 as 2^n e^r with n = round(x / ln 2), |r| <= ln 2 / 2, and Cephes' degree-6
// polynomial for e^r (relative error < 3e-7); exactly 0 below -87, so -inf (a masked logit)
// gives 0. Written out because GCC vectorises std::exp only under -ffast-math; a library
// (SLEEF) would need one call per instruction set and a dispatcher of our own for 10 lines.
inline __attribute__((always_inline)) float exp_nonpositive(float x) {
  const float xc = std::max(x, -87.0f);  // branch-free: clamp, then select the masked lanes
  const float n = std::floor(xc * 1.44269504088896341f + 0.5f);
  const float r = (xc - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 split in two for precision
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const float scale = __builtin_bit_cast(float, (std::int32_t(n) + 127) << 23);  // 2^n, n in [-126, 0]
  return x < -87.0f ? 0.0f : p * scale;
}

// bf16 <-> fp32 as c10::BFloat16 does it (round to nearest even; NaN stays NaN).
inline __attribute__((always_inline)) float load(float v) { return v; }
inline __attribute__((always_inline)) float load(c10::BFloat16 v) {
  return __builtin_bit_cast(float, std::uint32_t(v.x) << 16);
}
inline __attribute__((always_inline)) void store(float* dst, float v) { *dst = v; }
inline __attribute__((always_inline)) void store(c10::BFloat16* dst, float v) {
  const auto bits = __builtin_bit_cast(std::uint32_t, v);
  const auto rounded = std::uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  dst->x = v != v ? std::uint16_t(0x7fc0) : rounded;
}

}  // namespace structlm::model::lanes
