// model::gelu_tanh (fused for fp32 and bf16) against GPT-2's GELU written out in fp64 (value, and
// derivative by central differences), and against torch's own fp32 GELU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/gelu.h"

using namespace structlm;

namespace {

// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), GPT-2's approximation, elementwise in
// fp64 as x sigmoid(2u) (the same function): 1 + tanh(u) cancels for negative x even in fp64
// (relative error 5e-4 at x = -6.4, the whole value at x = -9).
torch::Tensor gelu_formula(const torch::Tensor& x) {
  return x * torch::sigmoid(2 * std::sqrt(2 / M_PI) * (x + 0.044715 * x.pow(3)));
}

}  // namespace

TEST(Gelu, Bf16MatchesTheFormulaToBf16Rounding) {
  torch::manual_seed(0);
  auto x = (torch::randn({64, 96}) * 3).to(torch::kBFloat16).requires_grad_();
  const auto g = torch::randn({64, 96}).to(torch::kBFloat16);
  auto y = model::gelu_tanh(x);
  y.backward(g);
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);

  const auto x64 = x.detach().to(torch::kDouble);
  const auto want = gelu_formula(x64);
  const double h = 1e-6;
  const auto slope = (gelu_formula(x64 + h) - gelu_formula(x64 - h)) / (2 * h);
  const auto want_grad = slope * g.to(torch::kDouble);
  // One bf16 rounding of the result: relative error up to 2^-8, plus a little absolute slack
  // near zero where gelu and its gradient pass through small values.
  auto close = [](const torch::Tensor& got, const torch::Tensor& want) {
    return ((got.to(torch::kDouble) - want).abs() <= want.abs() * (1.0 / 256) + 1e-3).all().item<bool>();
  };
  EXPECT_TRUE(close(y.detach(), want));
  EXPECT_TRUE(close(x.grad(), want_grad));
  // The fp64 formula rounded once to bf16 gives the same values, bar rounding ties (fp32 then bf16).
  EXPECT_LT((y.detach() != want.to(torch::kBFloat16)).to(torch::kFloat).mean().item<double>(), 0.02);  // 1.1 %
  // The tolerance can fail: a result 1 % off is refused.
  EXPECT_FALSE(close(want * 1.01, want));
}

TEST(Gelu, Fp32MatchesTheFormulaAndTorchsKernel) {
  torch::manual_seed(1);
  // Over the range where tanh saturates too (|x| up to 12) and through zero.
  auto x = torch::cat({torch::randn({4000}) * 4, torch::linspace(-12, 12, 2001)}).requires_grad_();
  auto xr = x.detach().clone().requires_grad_();
  const auto g = torch::randn({x.numel()});
  auto y = model::gelu_tanh(x);
  auto yr = torch::gelu(xr, "tanh");
  y.backward(g);
  yr.backward(g);
  // Against the formula in fp64: relative everywhere fp32 holds the value, the negative tail
  // included. There the value is ~exp(-2u(x)), and fp32 rounding of u is amplified by the
  // condition number |2 x u'(x)| ~ 1.6 |x| (1 + 0.134 x^2) (56 at x = -6) in any fp32 code.
  const auto x64 = x.detach().to(torch::kDouble);
  const auto want = gelu_formula(x64);
  const auto err = (y.detach().to(torch::kDouble) - want).abs();
  const auto cond = 1.6 * x64.abs() * (1 + 0.134 * x64 * x64);
  const auto bad = err > (1e-6 + 1.2e-7 * cond) * want.abs() + 1e-35;  // 0 below ~1e-37 |x| (exp underflow)
  EXPECT_FALSE(bad.any().item<bool>()) << "x " << x64.masked_select(bad).slice(0, 0, 3) << " relative error "
                                       << (err / want.abs()).masked_select(bad).slice(0, 0, 3);
  const double h = 1e-6;
  const auto slope = (gelu_formula(x64 + h) - gelu_formula(x64 - h)) / (2 * h);
  const auto gerr = (x.grad().to(torch::kDouble) - slope * g.to(torch::kDouble)).abs();
  EXPECT_LT(gerr.max().item<double>(), 2e-6);
  // torch's kernel forms 1 + tanh(u), which loses relative accuracy for negative x: against it,
  // an absolute tolerance of a few fp32 ulps of 1 times |x|.
  EXPECT_TRUE(((y - yr).abs() <= 1e-6 * yr.abs() + 4e-7 * x.detach().abs()).all().item<bool>());
  EXPECT_TRUE(torch::allclose(x.grad(), xr.grad(), 1e-5, 4e-6));
}

TEST(Gelu, Fp64IsTorchsAndNonContiguousInputsAreRead) {
  torch::manual_seed(2);
  auto x = torch::randn({5, 7}, torch::kDouble).requires_grad_();
  EXPECT_TRUE(torch::equal(model::gelu_tanh(x), torch::gelu(x, "tanh")));
  model::gelu_tanh(x).sum().backward();
  const double h = 1e-6;
  const auto fd = (gelu_formula(x.detach() + h) - gelu_formula(x.detach() - h)) / (2 * h);
  EXPECT_TRUE(torch::allclose(x.grad(), fd, 1e-7, 1e-8));
  auto xt = torch::randn({6, 10}).t();  // a transposed view
  EXPECT_TRUE(torch::allclose(model::gelu_tanh(xt), torch::gelu(xt, "tanh"), 1e-6, 1e-6));
}
