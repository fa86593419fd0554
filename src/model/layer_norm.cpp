#include "model/layer_norm.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

#include "model/vector_lanes.h"

namespace structlm::model {

namespace {

using lanes::load;
using lanes::store;
using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Rows [0, rows) of x [rows, C]: mean and 1 / sqrt(var + eps) (two passes over the row, which is
// in L1 for any width this project trains), then y = (x - mean) rstd g + b in Tout.
template <typename Tin, typename Tout>
inline __attribute__((always_inline)) void forward_impl(const Tin* x, const float* g, const float* b, Tout* y,
                                                         float* mean, float* rstd, std::int64_t rows,
                                                         std::int64_t C, float eps) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const Tin* xr = x + r * C;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (std::int64_t i = 0; i < C; ++i) s += load(xr[i]);
    const float m = s / float(C);
    float q = 0;
#pragma omp simd reduction(+ : q)
    for (std::int64_t i = 0; i < C; ++i) {
      const float d = load(xr[i]) - m;
      q += d * d;
    }
    const float rs = 1.0f / std::sqrt(q / float(C) + eps);
    Tout* yr = y + r * C;
#pragma omp simd
    for (std::int64_t i = 0; i < C; ++i) store(yr + i, (load(xr[i]) - m) * rs * g[i] + b[i]);
    mean[r] = m;
    rstd[r] = rs;
  }
}

// With xh = (x - mean) rstd and gy = dy g: dx = rstd (gy - mean(gy) - xh mean(gy xh)), and this
// block of rows' share of dg = sum dy xh and db = sum dy added into dg, db.
template <typename Tin, typename Tg>
inline __attribute__((always_inline)) void backward_impl(const Tin* x, const Tg* dy, const float* g,
                                                          const float* mean, const float* rstd, Tin* dx, float* dg,
                                                          float* db, std::int64_t rows, std::int64_t C) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const Tin* xr = x + r * C;
    const Tg* dyr = dy + r * C;
    const float m = mean[r], rs = rstd[r];
    float a = 0, c = 0;
#pragma omp simd reduction(+ : a, c)
    for (std::int64_t i = 0; i < C; ++i) {
      const float xh = (load(xr[i]) - m) * rs, d = load(dyr[i]), gy = d * g[i];
      a += gy;
      c += gy * xh;
      dg[i] += d * xh;
      db[i] += d;
    }
    a /= float(C);
    c /= float(C);
    Tin* dxr = dx + r * C;
#pragma omp simd
    for (std::int64_t i = 0; i < C; ++i) {
      const float xh = (load(xr[i]) - m) * rs;
      store(dxr + i, rs * (load(dyr[i]) * g[i] - a - xh * c));
    }
  }
}

using BF = c10::BFloat16;

// One clone per instruction set for each (input, output) pair the model uses: fp32 -> fp32,
// fp32 -> bf16 (autocast), bf16 -> bf16.
STRUCTLM_VECTOR_CLONES void forward_rows(const float* x, const float* g, const float* b, float* y, float* mean,
                                         float* rstd, std::int64_t rows, std::int64_t C, float eps) {
  forward_impl(x, g, b, y, mean, rstd, rows, C, eps);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const float* x, const float* g, const float* b, BF* y, float* mean,
                                         float* rstd, std::int64_t rows, std::int64_t C, float eps) {
  forward_impl(x, g, b, y, mean, rstd, rows, C, eps);
}
STRUCTLM_VECTOR_CLONES void forward_rows(const BF* x, const float* g, const float* b, BF* y, float* mean,
                                         float* rstd, std::int64_t rows, std::int64_t C, float eps) {
  forward_impl(x, g, b, y, mean, rstd, rows, C, eps);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* x, const float* dy, const float* g, const float* mean,
                                          const float* rstd, float* dx, float* dg, float* db, std::int64_t rows,
                                          std::int64_t C) {
  backward_impl(x, dy, g, mean, rstd, dx, dg, db, rows, C);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const float* x, const BF* dy, const float* g, const float* mean,
                                          const float* rstd, float* dx, float* dg, float* db, std::int64_t rows,
                                          std::int64_t C) {
  backward_impl(x, dy, g, mean, rstd, dx, dg, db, rows, C);
}
STRUCTLM_VECTOR_CLONES void backward_rows(const BF* x, const BF* dy, const float* g, const float* mean,
                                          const float* rstd, BF* dx, float* dg, float* db, std::int64_t rows,
                                          std::int64_t C) {
  backward_impl(x, dy, g, mean, rstd, dx, dg, db, rows, C);
}

// Rows per block of the backward: each block sums its own dg, db, and the blocks are added in
// order afterwards, so the result does not depend on how the blocks were spread over threads.
constexpr std::int64_t kBackwardRows = 32;

bool fused(at::ScalarType in, at::ScalarType out) {
  return (in == at::kFloat && (out == at::kFloat || out == at::kBFloat16)) ||
         (in == at::kBFloat16 && out == at::kBFloat16);
}

template <typename Tin, typename Tout>
void run_forward(const torch::Tensor& x, const torch::Tensor& g, const torch::Tensor& b, torch::Tensor& y,
                 torch::Tensor& mean, torch::Tensor& rstd, float eps) {
  const std::int64_t C = x.size(-1), rows = C ? x.numel() / C : 0;
  const Tin* xp = x.data_ptr<Tin>();
  Tout* yp = y.data_ptr<Tout>();
  const float *gp = g.data_ptr<float>(), *bp = b.data_ptr<float>();
  float *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>();
  const std::int64_t grain = std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, C));
  at::parallel_for(0, rows, grain, [&](std::int64_t s, std::int64_t e) {
    forward_rows(xp + s * C, gp, bp, yp + s * C, mp + s, rp + s, e - s, C, eps);
  });
}

template <typename Tin, typename Tg>
void run_backward(const torch::Tensor& x, const torch::Tensor& dy, const torch::Tensor& g, const torch::Tensor& mean,
                  const torch::Tensor& rstd, torch::Tensor& dx, torch::Tensor& dg, torch::Tensor& db) {
  const std::int64_t C = x.size(-1), rows = C ? x.numel() / C : 0;
  const std::int64_t blocks = (rows + kBackwardRows - 1) / kBackwardRows;
  std::vector<float> partial(std::size_t(blocks * 2 * C), 0.0f);  // per block: dg then db
  const Tin* xp = x.data_ptr<Tin>();
  const Tg* gyp = dy.data_ptr<Tg>();
  Tin* dxp = dx.data_ptr<Tin>();
  const float *gp = g.data_ptr<float>(), *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>();
  float* pp = partial.data();
  at::parallel_for(0, blocks, 1, [&](std::int64_t s, std::int64_t e) {
    for (std::int64_t k = s; k < e; ++k) {
      const std::int64_t r0 = k * kBackwardRows, n = std::min(kBackwardRows, rows - r0);
      backward_rows(xp + r0 * C, gyp + r0 * C, gp, mp + r0, rp + r0, dxp + r0 * C, pp + k * 2 * C,
                    pp + k * 2 * C + C, n, C);
    }
  });
  float *dgp = dg.data_ptr<float>(), *dbp = db.data_ptr<float>();
  for (std::int64_t k = 0; k < blocks; ++k)
    for (std::int64_t i = 0; i < C; ++i) {
      dgp[i] += pp[k * 2 * C + i];
      dbp[i] += pp[k * 2 * C + C + i];
    }
}

class LayerNormFn : public torch::autograd::Function<LayerNormFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight,
                               const torch::Tensor& bias, double eps, int64_t out_dtype) {
    const auto x = x_in.contiguous();
    const std::int64_t C = x.size(-1);
    const auto f32 = x.options().dtype(at::kFloat);
    const auto g = weight.to(at::kFloat).contiguous();
    const auto b = bias.defined() ? bias.to(at::kFloat).contiguous() : torch::zeros({C}, f32);
    const auto out = static_cast<at::ScalarType>(out_dtype);
    auto y = torch::empty(x.sizes(), x.options().dtype(out));
    auto mean = torch::empty({C ? x.numel() / C : 0}, f32), rstd = torch::empty_like(mean);
    const float e = float(eps);
    if (x.scalar_type() == at::kBFloat16)
      run_forward<BF, BF>(x, g, b, y, mean, rstd, e);
    else if (out == at::kBFloat16)
      run_forward<float, BF>(x, g, b, y, mean, rstd, e);
    else
      run_forward<float, float>(x, g, b, y, mean, rstd, e);
    ctx->save_for_backward({x, g, mean, rstd});
    ctx->saved_data["weight_dtype"] = int64_t(weight.scalar_type());
    ctx->saved_data["bias_dtype"] = bias.defined() ? int64_t(bias.scalar_type()) : int64_t(-1);
    ctx->saved_data["out_dtype"] = out_dtype;
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &g = saved[1], &mean = saved[2], &rstd = saved[3];
    const auto out = static_cast<at::ScalarType>(ctx->saved_data["out_dtype"].toInt());
    const auto dy = grads[0].to(out).contiguous();  // autograd hands the output's dtype; made sure
    const std::int64_t C = x.size(-1);
    auto dx = torch::empty_like(x, at::MemoryFormat::Contiguous);
    auto dg = torch::zeros({C}, x.options().dtype(at::kFloat)), db = torch::zeros_like(dg);
    if (x.scalar_type() == at::kBFloat16)
      run_backward<BF, BF>(x, dy, g, mean, rstd, dx, dg, db);
    else if (out == at::kBFloat16)
      run_backward<float, BF>(x, dy, g, mean, rstd, dx, dg, db);
    else
      run_backward<float, float>(x, dy, g, mean, rstd, dx, dg, db);
    const auto bias_dtype = ctx->saved_data["bias_dtype"].toInt();
    return {dx, dg.to(static_cast<at::ScalarType>(ctx->saved_data["weight_dtype"].toInt())),
            bias_dtype < 0 ? torch::Tensor() : db.to(static_cast<at::ScalarType>(bias_dtype)), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias, double eps,
                         c10::optional<at::ScalarType> out_dtype) {
  const auto out = out_dtype.value_or(x.scalar_type());
  if (x.device().is_cpu() && fused(x.scalar_type(), out) && weight.defined() && x.dim() >= 1 && x.size(-1) > 0)
    return LayerNormFn::apply(x, weight, bias, eps, int64_t(out));
  auto y = torch::layer_norm(x, {x.size(-1)}, weight, bias, eps);
  return y.scalar_type() == out ? y : y.to(out);
}

}  // namespace structlm::model
