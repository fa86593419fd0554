// model::layer_norm (fused on the CPU: fp32 -> fp32, fp32 -> bf16, bf16 -> bf16) against torch's
// layer_norm, value and gradients of x, weight and bias.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/layer_norm.h"
#include "model/precision.h"

using namespace structlm;

namespace {

struct Result {
  torch::Tensor y, dx, dw, db;
};

// y = layer_norm(x) and the gradients for the output gradient dy, through `fn`.
template <typename Fn>
Result run(const torch::Tensor& x0, const torch::Tensor& w0, const torch::Tensor& b0, const torch::Tensor& dy, Fn fn) {
  auto x = x0.detach().clone().requires_grad_();
  auto w = w0.detach().clone().requires_grad_();
  auto b = b0.detach().clone().requires_grad_();
  auto y = fn(x, w, b);
  y.backward(dy);
  return {y.detach(), x.grad(), w.grad(), b.grad()};
}

Result reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& dy) {
  // torch in fp32 on the widened input and output gradient: what autocast's route computes.
  return run(x.to(torch::kFloat), w, b, dy.to(torch::kFloat), [](auto& x, auto& w, auto& b) {
    return torch::layer_norm(x, {x.size(-1)}, w, b, 1e-5);
  });
}

Result fused(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, const torch::Tensor& dy,
             at::ScalarType out) {
  return run(x, w, b, dy, [out](auto& x, auto& w, auto& b) { return model::layer_norm(x, w, b, 1e-5, out); });
}

// |got - want| <= rel |want| + abs, everywhere.
bool close(const torch::Tensor& got, const torch::Tensor& want, double rel, double abs) {
  const auto g = got.to(torch::kDouble), w = want.to(torch::kDouble);
  return ((g - w).abs() <= w.abs() * rel + abs).all().item<bool>();
}

// A width of the bench model's and rows not a multiple of the backward's block of rows; inputs off
// zero mean and unit scale, so the centring matters.
struct Inputs {
  torch::Tensor x, w, b, dy;
};
Inputs inputs(at::ScalarType x_dtype, at::ScalarType dy_dtype, std::int64_t rows = 77, std::int64_t C = 384) {
  torch::manual_seed(3);
  return {(torch::randn({rows, C}) * 3 + 1.5).to(x_dtype), torch::randn({C}) * 0.5 + 1, torch::randn({C}) * 0.1,
          torch::randn({rows, C}).to(dy_dtype)};
}

}  // namespace

TEST(LayerNorm, Fp32MatchesTorch) {
  const auto in = inputs(torch::kFloat, torch::kFloat);
  const auto want = reference(in.x, in.w, in.b, in.dy);
  const auto got = fused(in.x, in.w, in.b, in.dy, torch::kFloat);
  EXPECT_EQ(got.y.scalar_type(), torch::kFloat);
  EXPECT_TRUE(close(got.y, want.y, 1e-5, 1e-5));
  EXPECT_TRUE(close(got.dx, want.dx, 1e-5, 1e-5));
  // Sums over 77 rows: scale the absolute slack by the sum's size.
  EXPECT_TRUE(close(got.dw, want.dw, 1e-5, 1e-5 * 77));
  EXPECT_TRUE(close(got.db, want.db, 1e-5, 1e-5 * 77));
  // The tolerance can fail: a result off by 1e-4 relative is refused.
  EXPECT_FALSE(close(want.y * (1 + 1e-4), want.y, 1e-5, 1e-5));
}

TEST(LayerNorm, Fp32InBf16OutIsTorchsRoundedOnceAndItsGradientFp32) {
  // Autocast's route: fp32 layer_norm, then a cast to bf16; backward, a bf16 gradient widened.
  const auto in = inputs(torch::kFloat, torch::kBFloat16);
  const auto want = reference(in.x, in.w, in.b, in.dy);
  const auto got = fused(in.x, in.w, in.b, in.dy, torch::kBFloat16);
  EXPECT_EQ(got.y.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(got.dx.scalar_type(), torch::kFloat);
  EXPECT_EQ(got.dw.scalar_type(), torch::kFloat);
  // One bf16 rounding: relative 2^-8, and nearly always the same bits as torch's rounded output.
  EXPECT_TRUE(close(got.y, want.y, 1.0 / 256, 1e-6));
  EXPECT_LT((got.y != want.y.to(torch::kBFloat16)).to(torch::kFloat).mean().item<double>(), 0.01);
  // The bf16 gradient is exact in fp32, so the gradients hold fp32's accuracy.
  EXPECT_TRUE(close(got.dx, want.dx, 1e-5, 1e-5));
  EXPECT_TRUE(close(got.dw, want.dw, 1e-5, 1e-5 * 77));
  EXPECT_TRUE(close(got.db, want.db, 1e-5, 1e-5 * 77));
}

TEST(LayerNorm, Bf16MatchesTorchToBf16Rounding) {
  const auto in = inputs(torch::kBFloat16, torch::kBFloat16);
  const auto want = reference(in.x, in.w, in.b, in.dy);
  const auto got = fused(in.x, in.w, in.b, in.dy, torch::kBFloat16);
  EXPECT_EQ(got.y.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(got.dx.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(close(got.y, want.y, 1.0 / 256, 1e-6));
  // dx is a difference of terms of size |gy|: one bf16 rounding of the result, plus slack for the
  // cancellation near zero.
  EXPECT_TRUE(close(got.dx, want.dx, 1.0 / 256, 1e-2 * want.dx.abs().max().item<double>()));
  EXPECT_TRUE(close(got.dw, want.dw, 1e-5, 1e-5 * 77));
}

TEST(LayerNorm, GradientsAreTheSameBitsForAnyThreadCount) {
  // 1,000 rows: several blocks of the backward's row sums, spread differently over 1 and 4 threads.
  const auto in = inputs(torch::kFloat, torch::kBFloat16, 1000, 96);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = fused(in.x, in.w, in.b, in.dy, torch::kBFloat16);
  at::set_num_threads(4);
  const auto four = fused(in.x, in.w, in.b, in.dy, torch::kBFloat16);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one.y, four.y));
  EXPECT_TRUE(torch::equal(one.dx, four.dx));
  EXPECT_TRUE(torch::equal(one.dw, four.dw));
  EXPECT_TRUE(torch::equal(one.db, four.db));
}

TEST(LayerNorm, OtherDtypesAndLayoutsFallBackOrCopy) {
  // fp64 goes to torch's kernel: the same bits.
  const auto in = inputs(torch::kDouble, torch::kDouble);
  const auto w = in.w.to(torch::kDouble), b = in.b.to(torch::kDouble);
  const auto want = run(in.x, w, b, in.dy, [](auto& x, auto& w, auto& b) { return torch::layer_norm(x, {x.size(-1)}, w, b, 1e-5); });
  const auto got = fused(in.x, w, b, in.dy, torch::kDouble);
  EXPECT_TRUE(torch::equal(got.y, want.y));
  EXPECT_TRUE(torch::equal(got.dx, want.dx));
  // A strided 3-D input (rows of a transposed tensor) normalises the same as its contiguous copy.
  const auto x = (torch::randn({384, 5, 7}) * 2).permute({1, 2, 0});
  ASSERT_FALSE(x.is_contiguous());
  const auto wf = torch::randn({384}), bf = torch::randn({384});
  EXPECT_TRUE(torch::allclose(model::layer_norm(x, wf, bf, 1e-5), torch::layer_norm(x, {384}, wf, bf, 1e-5), 1e-5, 1e-5));
}

TEST(LayerNorm, MatmulInputDtypeFollowsTheAutocastGuard) {
  const auto x = torch::zeros({2, 3});
  EXPECT_EQ(model::matmul_input_dtype(x), torch::kFloat);
  {
    model::AutocastGuard autocast(model::Precision::bf16, torch::kCPU);
    EXPECT_EQ(model::matmul_input_dtype(x), torch::kBFloat16);
    EXPECT_EQ(model::matmul_input_dtype(x.to(torch::kDouble)), torch::kDouble);  // autocast leaves fp64 alone
  }
  EXPECT_EQ(model::matmul_input_dtype(x), torch::kFloat);
  model::AutocastGuard fp32(model::Precision::fp32, torch::kCPU);
  EXPECT_EQ(model::matmul_input_dtype(x), torch::kFloat);
}
