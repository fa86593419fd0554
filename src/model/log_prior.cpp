#include "model/log_prior.h"
#include "model/vector_lanes.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace structlm::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

using lanes::load;
using lanes::store;

// ---- the passes ------------------------------------------------------------------------------
//
// Shapes: att, P, dP [B, H, T, Tk] contiguous; L (log(D + eps)), De (D + eps), grad_D [B, T, Tk].
// Both passes walk [B, H, T, Tk] in memory order, a few rows of one head after another: visiting
// the H heads of one (b, t) in turn jumps T * Tk elements between 1 KiB rows, and the hardware
// prefetchers never ramp up (that order ran the forward 3x slower than torch's softmax). Each
// row's summation order is fixed, so results do not depend on the number of threads.

struct Dims {
  std::int64_t B, H, T, Tk;
};

template <typename T>
inline __attribute__((always_inline)) void forward_rows_impl(const T* att, const float* beta, const float* L, T* out,
                                                             Dims d, std::int64_t begin, std::int64_t end, float* z) {
  for (std::int64_t r = begin; r < end; ++r) {  // r = (b * H + h) * T + t
    const std::int64_t t = r % d.T, h = (r / d.T) % d.H, b = r / (d.T * d.H);
    const T* a = att + r * d.Tk;
    const float* l = L + (b * d.T + t) * d.Tk;
    const float bh = beta[h];
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (std::int64_t s = 0; s < d.Tk; ++s) {
      z[s] = load(a[s]) + bh * l[s];
      m = z[s] > m ? z[s] : m;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t s = 0; s < d.Tk; ++s) {
      z[s] = lanes::exp_nonpositive(z[s] - m);
      sum += z[s];
    }
    const float inv = 1.0f / sum;
    T* o = out + r * d.Tk;
#pragma omp simd
    for (std::int64_t s = 0; s < d.Tk; ++s) store(o + s, z[s] * inv);
  }
}

// Rows [t0, t1) of batch b, every head. dZ = P * (dP - <dP, P>) (softmax's gradient) is the
// logits' gradient; the prior's: grad_D = sum_h beta[h] dZ[h] / (D + eps) and, per row and head,
// parts[b, t, h] = <dZ[h], L> (summed over rows into dL/dbeta by the caller).
template <typename T>
inline __attribute__((always_inline)) void backward_tile_impl(const T* P, const T* dP, const float* beta,
                                                              const float* L, const float* De, T* grad_att,
                                                              float* grad_D, float* parts, Dims d, std::int64_t b,
                                                              std::int64_t t0, std::int64_t t1) {
  for (std::int64_t i = (b * d.T + t0) * d.Tk; i < (b * d.T + t1) * d.Tk; ++i) grad_D[i] = 0.0f;
  for (std::int64_t h = 0; h < d.H; ++h) {
    const float bh = beta[h];
    for (std::int64_t t = t0; t < t1; ++t) {
      const std::int64_t off = ((b * d.H + h) * d.T + t) * d.Tk, row = b * d.T + t;
      const T* p = P + off;
      const T* g = dP + off;
      T* ga = grad_att + off;
      float* gd = grad_D + row * d.Tk;
      const float* l = L + row * d.Tk;
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (std::int64_t s = 0; s < d.Tk; ++s) dot += load(g[s]) * load(p[s]);
      float bdot = 0.0f;
#pragma omp simd reduction(+ : bdot)
      for (std::int64_t s = 0; s < d.Tk; ++s) {
        const float dz = load(p[s]) * (load(g[s]) - dot);
        store(ga + s, dz);
        gd[s] += bh * dz;
        bdot += dz * l[s];
      }
      parts[row * d.H + h] = bdot;
    }
  }
  for (std::int64_t i = (b * d.T + t0) * d.Tk; i < (b * d.T + t1) * d.Tk; ++i) grad_D[i] /= De[i];  // d log(D+eps)/dD
}

STRUCTLM_VECTOR_CLONES void forward_rows(const float* att, const float* beta, const float* L, float* out, Dims d,
                                  std::int64_t begin, std::int64_t end, float* z) {
  forward_rows_impl(att, beta, L, out, d, begin, end, z);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const c10::BFloat16* att, const float* beta, const float* L, c10::BFloat16* out,
                                  Dims d, std::int64_t begin, std::int64_t end, float* z) {
  forward_rows_impl(att, beta, L, out, d, begin, end, z);
}
STRUCTLM_VECTOR_CLONES void backward_tile(const float* P, const float* dP, const float* beta, const float* L, const float* De,
                                   float* ga, float* gD, float* parts, Dims d, std::int64_t b, std::int64_t t0,
                                   std::int64_t t1) {
  backward_tile_impl(P, dP, beta, L, De, ga, gD, parts, d, b, t0, t1);
}
STRUCTLM_VECTOR_CLONES void backward_tile(const c10::BFloat16* P, const c10::BFloat16* dP, const float* beta, const float* L,
                                   const float* De, c10::BFloat16* ga, float* gD, float* parts, Dims d, std::int64_t b,
                                   std::int64_t t0, std::int64_t t1) {
  backward_tile_impl(P, dP, beta, L, De, ga, gD, parts, d, b, t0, t1);
}
STRUCTLM_VECTOR_CLONES float exp_clone(float x) { return lanes::exp_nonpositive(x); }

// Rows per task in the forward; query rows per tile in the backward (16 rows of 256 keys: a
// 16 KiB slice of grad_D stays in cache while every head adds to it).
constexpr std::int64_t kGrain = 16, kTile = 16;

Dims dims_of(const torch::Tensor& t) { return {t.size(0), t.size(1), t.size(2), t.size(3)}; }

template <typename T>
void run_forward(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& L, torch::Tensor& out) {
  const Dims d = dims_of(att);
  const T* ap = att.data_ptr<T>();
  T* op = out.data_ptr<T>();
  const float* bp = beta.data_ptr<float>();
  const float* lp = L.data_ptr<float>();
  at::parallel_for(0, d.B * d.H * d.T, kGrain, [&](std::int64_t begin, std::int64_t end) {
    std::vector<float> z(static_cast<std::size_t>(d.Tk));
    forward_rows(ap, bp, lp, op, d, begin, end, z.data());
  });
}

template <typename T>
void run_backward(const torch::Tensor& P, const torch::Tensor& G, const torch::Tensor& beta, const torch::Tensor& L,
                  const torch::Tensor& De, torch::Tensor& grad_att, torch::Tensor& grad_D, torch::Tensor& parts) {
  const Dims d = dims_of(P);
  const std::int64_t tiles = (d.T + kTile - 1) / kTile;
  const T* pp = P.data_ptr<T>();
  const T* gp = G.data_ptr<T>();
  T* gap = grad_att.data_ptr<T>();
  const float* bp = beta.data_ptr<float>();
  const float* lp = L.data_ptr<float>();
  const float* dep = De.data_ptr<float>();
  float* gdp = grad_D.data_ptr<float>();
  float* partp = parts.data_ptr<float>();
  at::parallel_for(0, d.B * tiles, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      const std::int64_t b = k / tiles, t0 = (k % tiles) * kTile;
      backward_tile(pp, gp, bp, lp, dep, gap, gdp, partp, d, b, t0, std::min(d.T, t0 + kTile));
    }
  });
}

class LogPriorSoftmaxFn : public torch::autograd::Function<LogPriorSoftmaxFn> {
 public:
  // beta32, D: as given (their dtypes for the gradients); the kernels read fp32 copies.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& att, const torch::Tensor& beta,
                               const torch::Tensor& D, double eps) {
    const auto a = att.contiguous();
    const auto b32 = beta.to(torch::kFloat).contiguous();
    const auto De = (D.to(torch::kFloat) + eps).contiguous();
    const auto L = torch::log(De);
    auto out = torch::empty_like(a, at::MemoryFormat::Contiguous);
    if (a.scalar_type() == torch::kFloat)
      run_forward<float>(a, b32, L, out);
    else
      run_forward<c10::BFloat16>(a, b32, L, out);
    ctx->save_for_backward({out, b32, L, De});
    ctx->saved_data["beta_dtype"] = std::int64_t(beta.scalar_type());
    ctx->saved_data["D_dtype"] = std::int64_t(D.scalar_type());
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &P = saved[0], &b32 = saved[1], &L = saved[2], &De = saved[3];
    const auto G = grads[0].to(P.scalar_type()).contiguous();
    const auto B = P.size(0), H = P.size(1), T_ = P.size(2), Tk = P.size(3);
    auto grad_att = torch::empty_like(P);
    auto grad_D = torch::empty({B, T_, Tk}, L.options());
    auto parts = torch::empty({B * T_, H}, L.options());
    if (P.scalar_type() == torch::kFloat)
      run_backward<float>(P, G, b32, L, De, grad_att, grad_D, parts);
    else
      run_backward<c10::BFloat16>(P, G, b32, L, De, grad_att, grad_D, parts);
    const auto beta_dtype = c10::ScalarType(ctx->saved_data["beta_dtype"].toInt());
    const auto D_dtype = c10::ScalarType(ctx->saved_data["D_dtype"].toInt());
    return {grad_att, parts.sum(0).to(beta_dtype), grad_D.to(D_dtype), torch::Tensor()};
  }
};

}  // namespace

float detail::softmax_exp(float x) { return exp_clone(x); }

torch::Tensor log_prior_softmax(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D, double eps) {
  TORCH_CHECK(att.dim() == 4 && beta.dim() == 1 && D.dim() == 3 && att.size(1) == beta.size(0) &&
                  att.size(0) == D.size(0) && att.size(2) == D.size(1) && att.size(3) == D.size(2),
              "log_prior_softmax: att [B, H, T, Tk], beta [H], D [B, T, Tk]; got ", att.sizes(), ", ", beta.sizes(),
              ", ", D.sizes());
  const bool fused = att.device().is_cpu() && beta.device().is_cpu() && D.device().is_cpu() && att.size(3) > 0 &&
                     (att.scalar_type() == torch::kFloat || att.scalar_type() == torch::kBFloat16) &&
                     beta.is_floating_point() && D.is_floating_point();
  if (!fused) return log_prior_softmax_unfused(att, beta, D, eps);
  return LogPriorSoftmaxFn::apply(att, beta, D, eps);
}

torch::Tensor log_prior_softmax_unfused(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D,
                                        double eps) {
  // Computed in fp32 at least (bf16 logits are widened, as addcmul with fp32 beta would).
  const auto wide = at::promote_types(at::promote_types(att.scalar_type(), torch::kFloat), beta.scalar_type());
  const auto z = torch::addcmul(att.to(wide), beta.to(wide).view({1, -1, 1, 1}),
                                torch::log(D.to(wide) + eps).unsqueeze(1));
  return torch::softmax(z, -1).to(att.scalar_type());
}

}  // namespace structlm::model
