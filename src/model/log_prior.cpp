#include "model/log_prior.h"

#include <ATen/Parallel.h>

#include <vector>

namespace structlm::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// One row (b, t) of the backward: acc[s] = sum_h beta[h] G[h, s], beta_part[h] = sum_s G[h, s] L[s].
// `g` points at G[b, 0, t, 0]; heads are `head_stride` floats apart. Summation order is fixed per
// row, so results do not depend on the number of threads. One clone per instruction set, picked
// at start-up (as train/adamw_kernel.cpp); `omp simd` (-fopenmp-simd, no OpenMP runtime) lets the
// dot product be summed in vector lanes.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void backward_row(const float* g, std::int64_t head_stride, std::int64_t H, std::int64_t Tk, const float* beta,
                  const float* L, const float* D, float eps, float* grad_D, float* beta_part) {
  for (std::int64_t s = 0; s < Tk; ++s) grad_D[s] = 0.0f;
  for (std::int64_t h = 0; h < H; ++h) {
    const float* gh = g + h * head_stride;
    const float bh = beta[h];
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (std::int64_t s = 0; s < Tk; ++s) {
      grad_D[s] += bh * gh[s];
      dot += gh[s] * L[s];
    }
    beta_part[h] = dot;
  }
  for (std::int64_t s = 0; s < Tk; ++s) grad_D[s] /= D[s] + eps;  // d log(D + eps) / dD
}

class LogPriorFn : public torch::autograd::Function<LogPriorFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& att, const torch::Tensor& beta,
                               const torch::Tensor& D, double eps) {
    auto L = torch::log(D + eps);
    ctx->save_for_backward({beta, D, L});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["att_dtype"] = int64_t(att.scalar_type());
    return torch::addcmul(att, beta.view({1, -1, 1, 1}), L.unsqueeze(1));
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &beta = saved[0], &D = saved[1], &L = saved[2];
    const double eps = ctx->saved_data["eps"].toDouble();
    const auto att_dtype = c10::ScalarType(ctx->saved_data["att_dtype"].toInt());
    const auto G = grads[0].contiguous();
    const auto B = G.size(0), H = G.size(1), T = G.size(2), Tk = G.size(3);
    const bool fast = G.device().is_cpu() && G.scalar_type() == torch::kFloat && beta.scalar_type() == torch::kFloat &&
                      D.scalar_type() == torch::kFloat && L.scalar_type() == torch::kFloat;
    torch::Tensor grad_D, grad_beta;
    if (fast) {
      const auto Dc = D.contiguous(), Lc = L.contiguous(), bc = beta.contiguous();
      grad_D = torch::empty({B, T, Tk}, D.options());
      auto parts = torch::empty({B * T, H}, beta.options());
      const float* gp = G.data_ptr<float>();
      const float* dp = Dc.data_ptr<float>();
      const float* lp = Lc.data_ptr<float>();
      const float* bp = bc.data_ptr<float>();
      float* gdp = grad_D.data_ptr<float>();
      float* pp = parts.data_ptr<float>();
      at::parallel_for(0, B * T, 16, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t r = begin; r < end; ++r) {
          const std::int64_t b = r / T, t = r % T;
          backward_row(gp + (b * H * T + t) * Tk, T * Tk, H, Tk, bp, lp + r * Tk, dp + r * Tk, float(eps),
                       gdp + r * Tk, pp + r * H);
        }
      });
      grad_beta = parts.sum(0);
    } else {
      grad_D = (G * beta.view({1, -1, 1, 1})).sum(1) / (D + eps);
      grad_beta = (G * L.unsqueeze(1)).sum({0, 2, 3});
    }
    return {G.to(att_dtype), grad_beta.to(beta.scalar_type()), grad_D.to(D.scalar_type()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor add_log_prior(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D, double eps) {
  TORCH_CHECK(att.dim() == 4 && beta.dim() == 1 && D.dim() == 3 && att.size(1) == beta.size(0) &&
                  att.size(0) == D.size(0) && att.size(2) == D.size(1) && att.size(3) == D.size(2),
              "add_log_prior: att [B, H, T, Tk], beta [H], D [B, T, Tk]; got ", att.sizes(), ", ", beta.sizes(), ", ",
              D.sizes());
  return LogPriorFn::apply(att, beta, D, eps);
}

torch::Tensor add_log_prior_unfused(const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D,
                                    double eps) {
  return torch::addcmul(att, beta.view({1, -1, 1, 1}), torch::log(D + eps).unsqueeze(1));
}

}  // namespace structlm::model
