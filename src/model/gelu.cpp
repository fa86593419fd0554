#include "model/gelu.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "model/vector_lanes.h"

namespace structlm::model {

namespace {

using lanes::load;
using lanes::store;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr float kSqrt2OverPi = 0.7978845608028654f, kCubic = 0.044715f;

// 0.5 (1 + tanh(u)) = sigmoid(2u), u = sqrt(2/pi) (v + 0.044715 v^3), from e = exp(-2|u|) <= 1:
// sigmoid(2u) = 1 / (1 + e) for u >= 0 and e / (1 + e) for u < 0. No 1 + tanh cancellation on the
// negative side (torch's kernel loses relative accuracy there), and 1 - tanh^2 = 4 e / (1 + e)^2.
struct Sigmoid2u {
  float sig, e, inv1pe;
};
inline __attribute__((always_inline)) Sigmoid2u sigmoid_2u(float v) {
  const float u = kSqrt2OverPi * v * (1.0f + kCubic * v * v);
  const float e = lanes::exp_nonpositive(-2.0f * std::fabs(u));
  const float inv = 1.0f / (1.0f + e);
  return {(u < 0.0f ? e : 1.0f) * inv, e, inv};
}

template <typename T>
inline __attribute__((always_inline)) void forward_impl(const T* x, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = load(x[i]);
    store(y + i, v * sigmoid_2u(v).sig);
  }
}

// d/dv [v sigmoid(2u)] = sigmoid(2u) + v (1 - tanh(u)^2) / 2 * du/dv.
template <typename T>
inline __attribute__((always_inline)) void backward_impl(const T* x, const T* dy, T* dx, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float v = load(x[i]);
    const Sigmoid2u s = sigmoid_2u(v);
    const float du = kSqrt2OverPi * (1.0f + 3.0f * kCubic * v * v);
    store(dx + i, load(dy[i]) * (s.sig + 2.0f * v * du * s.e * s.inv1pe * s.inv1pe));
  }
}

STRUCTLM_VECTOR_CLONES void forward(const float* x, float* y, std::int64_t n) { forward_impl(x, y, n); }
STRUCTLM_VECTOR_CLONES void forward(const c10::BFloat16* x, c10::BFloat16* y, std::int64_t n) {
  forward_impl(x, y, n);
}
STRUCTLM_VECTOR_CLONES void backward(const float* x, const float* dy, float* dx, std::int64_t n) {
  backward_impl(x, dy, dx, n);
}
STRUCTLM_VECTOR_CLONES void backward(const c10::BFloat16* x, const c10::BFloat16* dy, c10::BFloat16* dx,
                                     std::int64_t n) {
  backward_impl(x, dy, dx, n);
}

constexpr std::int64_t kGrain = 1 << 15;  // elements per task

template <typename T>
void run_forward(const torch::Tensor& x, torch::Tensor& y) {
  const T* xp = x.data_ptr<T>();
  T* yp = y.data_ptr<T>();
  at::parallel_for(0, x.numel(), kGrain, [&](std::int64_t b, std::int64_t e) { forward(xp + b, yp + b, e - b); });
}

template <typename T>
void run_backward(const torch::Tensor& x, const torch::Tensor& dy, torch::Tensor& dx) {
  const T* xp = x.data_ptr<T>();
  const T* gp = dy.data_ptr<T>();
  T* dp = dx.data_ptr<T>();
  at::parallel_for(0, x.numel(), kGrain,
                   [&](std::int64_t b, std::int64_t e) { backward(xp + b, gp + b, dp + b, e - b); });
}

class GeluFn : public torch::autograd::Function<GeluFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in) {
    const auto x = x_in.contiguous();
    auto y = torch::empty_like(x, at::MemoryFormat::Contiguous);
    if (x.scalar_type() == torch::kFloat)
      run_forward<float>(x, y);
    else
      run_forward<c10::BFloat16>(x, y);
    ctx->save_for_backward({x});
    return y;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    const auto dy = grads[0].to(x.scalar_type()).contiguous();
    auto dx = torch::empty_like(x, at::MemoryFormat::Contiguous);
    if (x.scalar_type() == torch::kFloat)
      run_backward<float>(x, dy, dx);
    else
      run_backward<c10::BFloat16>(x, dy, dx);
    return {dx};
  }
};

// fp16: torch's fp32 kernels on the widened input, narrowed once.
class WideGeluFn : public torch::autograd::Function<WideGeluFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return torch::gelu(x.to(torch::kFloat), "tanh").to(x.scalar_type());
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    return {at::gelu_backward(grads[0].to(torch::kFloat), x.to(torch::kFloat), "tanh").to(x.scalar_type())};
  }
};

}  // namespace

torch::Tensor gelu_tanh(const torch::Tensor& x) {
  const auto t = x.scalar_type();
  if (x.device().is_cpu() && (t == torch::kFloat || t == torch::kBFloat16)) return GeluFn::apply(x);
  if (t == torch::kHalf) return WideGeluFn::apply(x);
  return torch::gelu(x, "tanh");
}

}  // namespace structlm::model
