// model::gelu_tanh against GPT-2's GELU written out in fp64 (value, and derivative by central
// differences), and against torch's own GELU on the widened input.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/gelu.h"

using namespace structlm;

namespace {

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), GPT-2's approximation, elementwise in fp64.
torch::Tensor gelu_formula(const torch::Tensor& x) {
  return 0.5 * x * (1 + torch::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x.pow(3))));
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
  // Exactly torch's fp32 kernels, rounded once: the widening changes nothing else.
  EXPECT_TRUE(torch::equal(y.detach(), torch::gelu(x.detach().to(torch::kFloat), "tanh").to(torch::kBFloat16)));
  // The tolerance can fail: a result 1 % off is refused.
  EXPECT_FALSE(close(want * 1.01, want));
}

TEST(Gelu, Fp32AndFp64AreTorchsGelu) {
  torch::manual_seed(1);
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto x = torch::randn({16, 8}, dtype).requires_grad_();
    auto y = model::gelu_tanh(x);
    EXPECT_TRUE(torch::equal(y, torch::gelu(x, "tanh")));
  }
  // Finite differences through the function in fp64.
  auto x = torch::randn({5, 7}, torch::kDouble).requires_grad_();
  model::gelu_tanh(x).sum().backward();
  const double h = 1e-6;
  const auto fd = (gelu_formula(x.detach() + h) - gelu_formula(x.detach() - h)) / (2 * h);
  EXPECT_TRUE(torch::allclose(x.grad(), fd, 1e-7, 1e-8));
}
