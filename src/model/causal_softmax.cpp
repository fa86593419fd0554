#include "model/causal_softmax.h"
#include "model/vector_lanes.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

namespace structlm::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

using lanes::load;
using lanes::store;

// Rows r = n * T + t of a contiguous [N, T, Tk]; row r sees keys [0, past + t].
struct Dims {
  std::int64_t T, Tk, past;
  float scale;
};

inline std::int64_t visible(const Dims& d, std::int64_t r) { return std::min(d.Tk, d.past + r % d.T + 1); }

template <typename T>
inline __attribute__((always_inline)) void forward_rows_impl(const T* S, T* P, Dims d, std::int64_t begin,
                                                             std::int64_t end, float* z) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* s = S + r * d.Tk;
    T* p = P + r * d.Tk;
    const std::int64_t n = visible(d, r);
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < n; ++j) {
      z[j] = d.scale * load(s[j]);
      m = z[j] > m ? z[j] : m;
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t j = 0; j < n; ++j) {
      z[j] = lanes::exp_nonpositive(z[j] - m);
      sum += z[j];
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) store(p + j, z[j] * inv);
    std::memset(static_cast<void*>(p + n), 0, std::size_t(d.Tk - n) * sizeof(T));  // the masked keys: exactly 0
  }
}

// dS = scale * P * (dP - <dP, P>) over the visible keys; 0 on the masked ones (P is 0 there).
template <typename T>
inline __attribute__((always_inline)) void backward_rows_impl(const T* P, const T* G, T* dS, Dims d,
                                                              std::int64_t begin, std::int64_t end) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* p = P + r * d.Tk;
    const T* g = G + r * d.Tk;
    T* o = dS + r * d.Tk;
    const std::int64_t n = visible(d, r);
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (std::int64_t j = 0; j < n; ++j) dot += load(g[j]) * load(p[j]);
#pragma omp simd
    for (std::int64_t j = 0; j < n; ++j) store(o + j, d.scale * load(p[j]) * (load(g[j]) - dot));
    std::memset(static_cast<void*>(o + n), 0, std::size_t(d.Tk - n) * sizeof(T));
  }
}

STRUCTLM_VECTOR_CLONES void forward_rows(const float* S, float* P, Dims d, std::int64_t b, std::int64_t e, float* z) {
  forward_rows_impl(S, P, d, b, e, z);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const c10::BFloat16* S, c10::BFloat16* P, Dims d, std::int64_t b,
                                         std::int64_t e, float* z) {
  forward_rows_impl(S, P, d, b, e, z);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* P, const float* G, float* dS, Dims d, std::int64_t b,
                                          std::int64_t e) {
  backward_rows_impl(P, G, dS, d, b, e);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const c10::BFloat16* P, const c10::BFloat16* G, c10::BFloat16* dS, Dims d,
                                          std::int64_t b, std::int64_t e) {
  backward_rows_impl(P, G, dS, d, b, e);
}

constexpr std::int64_t kGrain = 16;  // rows per task

Dims dims_of(const torch::Tensor& S, double scale, std::int64_t past) {
  return {S.size(-2), S.size(-1), past, float(scale)};
}

template <typename T>
void run_forward(const torch::Tensor& S, torch::Tensor& P, Dims d) {
  const T* sp = S.data_ptr<T>();
  T* pp = P.data_ptr<T>();
  at::parallel_for(0, S.numel() / d.Tk, kGrain, [&](std::int64_t b, std::int64_t e) {
    std::vector<float> z(static_cast<std::size_t>(d.Tk));
    forward_rows(sp, pp, d, b, e, z.data());
  });
}

template <typename T>
void run_backward(const torch::Tensor& P, const torch::Tensor& G, torch::Tensor& dS, Dims d) {
  const T* pp = P.data_ptr<T>();
  const T* gp = G.data_ptr<T>();
  T* dp = dS.data_ptr<T>();
  at::parallel_for(0, P.numel() / d.Tk, kGrain,
                   [&](std::int64_t b, std::int64_t e) { backward_rows(pp, gp, dp, d, b, e); });
}

class CausalSoftmaxFn : public torch::autograd::Function<CausalSoftmaxFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& S_in, double scale, std::int64_t past) {
    const auto S = S_in.contiguous();
    auto P = torch::empty_like(S, at::MemoryFormat::Contiguous);
    const Dims d = dims_of(S, scale, past);
    if (S.scalar_type() == torch::kFloat)
      run_forward<float>(S, P, d);
    else
      run_forward<c10::BFloat16>(S, P, d);
    ctx->save_for_backward({P});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["past"] = past;
    return P;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto P = ctx->get_saved_variables()[0];
    const auto G = grads[0].to(P.scalar_type()).contiguous();
    auto dS = torch::empty_like(P);
    const Dims d = dims_of(P, ctx->saved_data["scale"].toDouble(), ctx->saved_data["past"].toInt());
    if (P.scalar_type() == torch::kFloat)
      run_backward<float>(P, G, dS, d);
    else
      run_backward<c10::BFloat16>(P, G, dS, d);
    return {dS, torch::Tensor(), torch::Tensor()};
  }
};

constexpr int kUnset = -1;
std::atomic<int> g_override{kUnset};

int from_environment() {
  static const int value = [] {
    const char* s = std::getenv("STRUCTLM_FUSED_SOFTMAX");
    if (!s || !*s) return 0;
    TORCH_CHECK(std::strcmp(s, "0") == 0 || std::strcmp(s, "1") == 0,
                "STRUCTLM_FUSED_SOFTMAX: expected 0 or 1, got '", s, "'");
    return s[0] == '1' ? 1 : 0;
  }();
  return value;
}

}  // namespace

torch::Tensor causal_softmax(const torch::Tensor& S, double scale, std::int64_t past) {
  TORCH_CHECK(S.dim() >= 2 && past >= 0 && S.size(-1) >= past + S.size(-2),
              "causal_softmax: scores [..., T, Tk] with Tk >= past + T; got ", S.sizes(), " and past ", past);
  const bool fused = S.device().is_cpu() && S.size(-1) > 0 && S.numel() > 0 &&
                     (S.scalar_type() == torch::kFloat || S.scalar_type() == torch::kBFloat16);
  if (!fused) return causal_softmax_unfused(S, scale, past);
  return CausalSoftmaxFn::apply(S, scale, past);
}

torch::Tensor causal_softmax_unfused(const torch::Tensor& S, double scale, std::int64_t past) {
  const auto T = S.size(-2), Tk = S.size(-1);
  const auto wide = S.to(at::promote_types(S.scalar_type(), torch::kFloat));
  // Key s is masked for query t when s > past + t.
  const auto mask = torch::full({T, Tk}, -std::numeric_limits<double>::infinity(), wide.options()).triu(past + 1);
  return torch::softmax(wide * scale + mask, -1).to(S.scalar_type());
}

bool fused_causal_softmax() {
  if (const int o = g_override.load(std::memory_order_relaxed); o >= 0) return o == 1;
  return from_environment() == 1;
}

void set_fused_causal_softmax(int on) { g_override.store(on >= 0 ? (on ? 1 : 0) : kUnset); }

}  // namespace structlm::model
