#include "cstde/carry_softmax.h"

#include <ATen/Parallel.h>

#include <limits>

#include "model/vector_lanes.h"

namespace structlm::cstde {

namespace {

using model::lanes::load;
using model::lanes::store;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Rows [begin, end) of [B * T, Tk]. fresh = softmax(s) (kept for the backward), D = prev +
// g (fresh - prev).
template <typename T>
inline __attribute__((always_inline)) void forward_rows_impl(const T* s, const float* prev, float g, float* fresh,
                                                             float* D, std::int64_t Tk, std::int64_t begin,
                                                             std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* sr = s + r * Tk;
    float* f = fresh + r * Tk;
    const float* p = prev + r * Tk;
    float* d = D + r * Tk;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < Tk; ++j) m = load(sr[j]) > m ? load(sr[j]) : m;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t j = 0; j < Tk; ++j) {
      f[j] = model::lanes::exp_nonpositive(load(sr[j]) - m);
      sum += f[j];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (std::int64_t j = 0; j < Tk; ++j) {
      f[j] *= inv;
      d[j] = p[j] + g * (f[j] - p[j]);
    }
  }
}

// dprev = (1 - g) dD; ds = fresh (g dD - <g dD, fresh>) (softmax's gradient); per row,
// gpart = <dD, fresh - prev> (summed into dL/dgamma by the caller).
template <typename T>
inline __attribute__((always_inline)) void backward_rows_impl(const float* dD, const float* fresh, const float* prev,
                                                              float g, T* ds, float* dprev, float* gpart,
                                                              std::int64_t Tk, std::int64_t begin, std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    const float* gd = dD + r * Tk;
    const float* f = fresh + r * Tk;
    const float* p = prev + r * Tk;
    float dot = 0.0f, gp = 0.0f;
#pragma omp simd reduction(+ : dot, gp)
    for (std::int64_t j = 0; j < Tk; ++j) {
      dot += gd[j] * f[j];
      gp += gd[j] * (f[j] - p[j]);
    }
    dot *= g;
    T* o = ds + r * Tk;
    float* dp = dprev + r * Tk;
#pragma omp simd
    for (std::int64_t j = 0; j < Tk; ++j) {
      store(o + j, f[j] * (g * gd[j] - dot));
      dp[j] = (1.0f - g) * gd[j];
    }
    gpart[r] = gp;
  }
}

STRUCTLM_VECTOR_CLONES void forward_rows(const float* s, const float* prev, float g, float* fresh, float* D,
                                         std::int64_t Tk, std::int64_t begin, std::int64_t end) {
  forward_rows_impl(s, prev, g, fresh, D, Tk, begin, end);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const c10::BFloat16* s, const float* prev, float g, float* fresh, float* D,
                                         std::int64_t Tk, std::int64_t begin, std::int64_t end) {
  forward_rows_impl(s, prev, g, fresh, D, Tk, begin, end);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* dD, const float* fresh, const float* prev, float g, float* ds,
                                          float* dprev, float* gpart, std::int64_t Tk, std::int64_t begin,
                                          std::int64_t end) {
  backward_rows_impl(dD, fresh, prev, g, ds, dprev, gpart, Tk, begin, end);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* dD, const float* fresh, const float* prev, float g,
                                          c10::BFloat16* ds, float* dprev, float* gpart, std::int64_t Tk,
                                          std::int64_t begin, std::int64_t end) {
  backward_rows_impl(dD, fresh, prev, g, ds, dprev, gpart, Tk, begin, end);
}

constexpr std::int64_t kGrain = 16;  // rows per task

class CarriedSoftmaxFn : public torch::autograd::Function<CarriedSoftmaxFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s, const torch::Tensor& prev,
                               const torch::Tensor& gamma) {
    const auto sc = s.contiguous();
    const auto p32 = prev.to(torch::kFloat).contiguous();
    const float g = gamma.item<float>();
    const auto rows = s.size(0) * s.size(1), Tk = s.size(2);
    auto fresh = torch::empty(s.sizes(), p32.options());
    auto D = torch::empty(s.sizes(), p32.options());
    at::parallel_for(0, rows, kGrain, [&](std::int64_t begin, std::int64_t end) {
      if (sc.scalar_type() == torch::kFloat)
        forward_rows(sc.data_ptr<float>(), p32.data_ptr<float>(), g, fresh.data_ptr<float>(), D.data_ptr<float>(),
                     Tk, begin, end);
      else
        forward_rows(sc.data_ptr<c10::BFloat16>(), p32.data_ptr<float>(), g, fresh.data_ptr<float>(),
                     D.data_ptr<float>(), Tk, begin, end);
    });
    ctx->save_for_backward({fresh, p32});
    ctx->saved_data["g"] = double(g);
    ctx->saved_data["s_dtype"] = std::int64_t(s.scalar_type());
    ctx->saved_data["prev_dtype"] = std::int64_t(prev.scalar_type());
    ctx->saved_data["gamma_dtype"] = std::int64_t(gamma.scalar_type());
    ctx->saved_data["gamma_sizes"] = gamma.sizes().vec();
    return D;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &fresh = saved[0], &p32 = saved[1];
    const float g = float(ctx->saved_data["g"].toDouble());
    const auto s_dtype = c10::ScalarType(ctx->saved_data["s_dtype"].toInt());
    const auto dD = grads[0].to(torch::kFloat).contiguous();
    const auto rows = fresh.size(0) * fresh.size(1), Tk = fresh.size(2);
    auto ds = torch::empty(fresh.sizes(), fresh.options().dtype(s_dtype));
    auto dprev = torch::empty_like(fresh);
    auto gpart = torch::empty({rows}, fresh.options());
    at::parallel_for(0, rows, kGrain, [&](std::int64_t begin, std::int64_t end) {
      if (s_dtype == torch::kFloat)
        backward_rows(dD.data_ptr<float>(), fresh.data_ptr<float>(), p32.data_ptr<float>(), g, ds.data_ptr<float>(),
                      dprev.data_ptr<float>(), gpart.data_ptr<float>(), Tk, begin, end);
      else
        backward_rows(dD.data_ptr<float>(), fresh.data_ptr<float>(), p32.data_ptr<float>(), g,
                      ds.data_ptr<c10::BFloat16>(), dprev.data_ptr<float>(), gpart.data_ptr<float>(), Tk, begin, end);
    });
    const auto prev_dtype = c10::ScalarType(ctx->saved_data["prev_dtype"].toInt());
    const auto gamma_dtype = c10::ScalarType(ctx->saved_data["gamma_dtype"].toInt());
    const auto gamma_sizes = ctx->saved_data["gamma_sizes"].toIntVector();
    return {ds, dprev.to(prev_dtype), gpart.sum().reshape(gamma_sizes).to(gamma_dtype)};
  }
};

bool fusable(const torch::Tensor& t) {
  return t.device().is_cpu() && (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kBFloat16);
}

}  // namespace

torch::Tensor carried_softmax(const torch::Tensor& s, const torch::Tensor& prev, const torch::Tensor& gamma) {
  TORCH_CHECK(s.dim() == 3 && prev.sizes() == s.sizes() && gamma.numel() == 1,
              "carried_softmax: s and prev [B, T, Tk], gamma one element; got ", s.sizes(), ", ", prev.sizes(), ", ",
              gamma.sizes());
  if (!fusable(s) || !fusable(prev) || !gamma.device().is_cpu() || gamma.scalar_type() != torch::kFloat ||
      s.size(2) == 0)
    return carried_softmax_unfused(s, prev, gamma);
  return CarriedSoftmaxFn::apply(s, prev, gamma);
}

torch::Tensor carried_softmax_unfused(const torch::Tensor& s, const torch::Tensor& prev, const torch::Tensor& gamma) {
  auto fresh = torch::softmax(s, -1);
  return prev + gamma * (fresh - prev);
}

}  // namespace structlm::cstde
