#include "model/cross_entropy.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "model/vector_lanes.h"

namespace structlm::model {

namespace {

using lanes::load;
using lanes::store;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr std::int64_t kIgnore = -100;  // torch's default ignore_index

// Rows [begin, end): lse[r] = log sum_j exp(z[r, j]); loss[r] = lse[r] - z[r, target[r]] (0 when
// ignored).
template <typename T>
inline __attribute__((always_inline)) void forward_rows_impl(const T* z, const std::int64_t* target, std::int64_t V,
                                                             std::int64_t begin, std::int64_t end, float* lse,
                                                             float* loss) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* row = z + r * V;
    float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
    for (std::int64_t j = 0; j < V; ++j) m = load(row[j]) > m ? load(row[j]) : m;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (std::int64_t j = 0; j < V; ++j) sum += lanes::exp_nonpositive(load(row[j]) - m);
    lse[r] = m + std::log(sum);
    loss[r] = target[r] == kIgnore ? 0.0f : lse[r] - load(row[target[r]]);
  }
}

// grad[r, j] = scale (exp(z[r, j] - lse[r]) - [j == target[r]]); 0 for an ignored row.
template <typename T>
inline __attribute__((always_inline)) void backward_rows_impl(const T* z, const std::int64_t* target,
                                                              const float* lse, float scale, std::int64_t V,
                                                              std::int64_t begin, std::int64_t end, T* grad) {
  for (std::int64_t r = begin; r < end; ++r) {
    const T* row = z + r * V;
    T* g = grad + r * V;
    const float s = target[r] == kIgnore ? 0.0f : scale, l = lse[r];
#pragma omp simd
    for (std::int64_t j = 0; j < V; ++j) store(g + j, s * lanes::exp_nonpositive(load(row[j]) - l));
    if (target[r] != kIgnore) store(g + target[r], s * (lanes::exp_nonpositive(load(row[target[r]]) - l) - 1.0f));
  }
}

STRUCTLM_VECTOR_CLONES void forward_rows(const float* z, const std::int64_t* t, std::int64_t V, std::int64_t b,
                                         std::int64_t e, float* lse, float* loss) {
  forward_rows_impl(z, t, V, b, e, lse, loss);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const c10::BFloat16* z, const std::int64_t* t, std::int64_t V,
                                         std::int64_t b, std::int64_t e, float* lse, float* loss) {
  forward_rows_impl(z, t, V, b, e, lse, loss);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* z, const std::int64_t* t, const float* lse, float scale,
                                          std::int64_t V, std::int64_t b, std::int64_t e, float* grad) {
  backward_rows_impl(z, t, lse, scale, V, b, e, grad);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const c10::BFloat16* z, const std::int64_t* t, const float* lse,
                                          float scale, std::int64_t V, std::int64_t b, std::int64_t e,
                                          c10::BFloat16* grad) {
  backward_rows_impl(z, t, lse, scale, V, b, e, grad);
}

constexpr std::int64_t kGrain = 4;  // rows per task (a row is the whole vocabulary)

class CrossEntropyFn : public torch::autograd::Function<CrossEntropyFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits_in, const torch::Tensor& targets_in) {
    const auto z = logits_in.contiguous();
    const auto t = targets_in.contiguous();
    const auto N = z.size(0), V = z.size(1);
    const std::int64_t* tp = t.data_ptr<std::int64_t>();
    std::int64_t counted = 0;
    for (std::int64_t r = 0; r < N; ++r) {
      TORCH_CHECK(tp[r] == kIgnore || (tp[r] >= 0 && tp[r] < V), "cross_entropy: target ", tp[r], " at row ", r,
                  " is outside the vocabulary [0, ", V, ")");
      counted += tp[r] != kIgnore;
    }
    auto lse = torch::empty({N}, z.options().dtype(torch::kFloat));
    auto loss = torch::empty({N}, z.options().dtype(torch::kFloat));
    at::parallel_for(0, N, kGrain, [&](std::int64_t b, std::int64_t e) {
      if (z.scalar_type() == torch::kFloat)
        forward_rows(z.data_ptr<float>(), tp, V, b, e, lse.data_ptr<float>(), loss.data_ptr<float>());
      else
        forward_rows(z.data_ptr<c10::BFloat16>(), tp, V, b, e, lse.data_ptr<float>(), loss.data_ptr<float>());
    });
    ctx->save_for_backward({z, t, lse});
    ctx->saved_data["count"] = counted;
    // Summed in fp64, in row order: the same loss for any number of threads. No targets: NaN,
    // as torch's mean over nothing.
    const float* lp = loss.data_ptr<float>();
    double total = 0.0;
    for (std::int64_t r = 0; r < N; ++r) total += lp[r];
    return torch::full({}, counted ? total / double(counted) : std::nan(""), lse.options());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &z = saved[0], &t = saved[1], &lse = saved[2];
    const auto counted = ctx->saved_data["count"].toInt();
    const float scale = counted ? float(grads[0].item<double>() / double(counted)) : 0.0f;
    const auto V = z.size(1);
    auto grad = torch::empty_like(z);
    at::parallel_for(0, z.size(0), kGrain, [&](std::int64_t b, std::int64_t e) {
      if (z.scalar_type() == torch::kFloat)
        backward_rows(z.data_ptr<float>(), t.data_ptr<std::int64_t>(), lse.data_ptr<float>(), scale, V, b, e,
                      grad.data_ptr<float>());
      else
        backward_rows(z.data_ptr<c10::BFloat16>(), t.data_ptr<std::int64_t>(), lse.data_ptr<float>(), scale, V, b,
                      e, grad.data_ptr<c10::BFloat16>());
    });
    return {grad, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0) &&
                  targets.scalar_type() == torch::kLong,
              "cross_entropy: logits [N, V] and int64 targets [N]; got ", logits.sizes(), " and ", targets.sizes(), " ",
              targets.scalar_type());
  const auto d = logits.scalar_type();
  if (logits.device().is_cpu() && targets.device().is_cpu() && logits.size(1) > 0 &&
      (d == torch::kFloat || d == torch::kBFloat16))
    return CrossEntropyFn::apply(logits, targets);
  const auto wide = d == torch::kDouble ? logits : logits.to(torch::kFloat);  // fp16 and others: fp32
  return torch::nn::functional::cross_entropy(wide, targets);
}

}  // namespace structlm::model
