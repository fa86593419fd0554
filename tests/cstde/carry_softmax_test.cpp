// cstde::carried_softmax (D = prev + gamma (softmax(s) - prev), fused) against the same expression
// through autograd's ops, in fp32 and with bf16 scores as autocast gives them, and against
// central differences in fp64.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <cmath>

#include "cstde/carry_softmax.h"

using namespace structlm;

namespace {

struct Case {
  torch::Tensor s, prev, gamma, g;
};

// Causal scores (-inf above the diagonal), a causal previous distribution, a gamma in (0, 1).
Case make_case(std::int64_t B, std::int64_t T, torch::Dtype dtype) {
  const auto mask = torch::ones({T, T}, torch::kBool).triu(1);
  Case c;
  c.s = (torch::randn({B, T, T}, dtype) * 2).masked_fill(mask, -INFINITY).requires_grad_();
  c.prev = torch::softmax(torch::randn({B, T, T}, dtype).masked_fill(mask, -INFINITY), -1).requires_grad_();
  c.gamma = torch::full({1}, 0.3, dtype).requires_grad_();
  c.g = torch::randn({B, T, T}, dtype);
  return c;
}

Case copy(const Case& a, torch::Dtype dtype) {
  return Case{a.s.detach().to(dtype).requires_grad_(), a.prev.detach().to(dtype).requires_grad_(),
              a.gamma.detach().to(dtype).requires_grad_(), a.g.to(dtype)};
}

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  return ((x - y).abs().max() / y.abs().max().clamp_min(1e-3)).item<double>();  // a zero reference: absolute
}

}  // namespace

TEST(CarriedSoftmax, Fp32FusedMatchesAutograd) {
  torch::manual_seed(7);
  for (auto T : {1, 7, 33}) {  // odd lengths exercise the vector loops' tails
    auto a = make_case(3, T, torch::kFloat);
    auto b = copy(a, torch::kFloat);
    auto ya = cstde::carried_softmax(a.s, a.prev, a.gamma);
    auto yb = cstde::carried_softmax_unfused(b.s, b.prev, b.gamma);
    ASSERT_EQ(ya.scalar_type(), torch::kFloat);
    EXPECT_LT(max_rel(ya, yb), 1e-6) << "T " << T;
    ya.backward(a.g);
    yb.backward(b.g);
    EXPECT_LT(max_rel(a.s.grad(), b.s.grad()), 1e-5) << "T " << T;
    EXPECT_LT(max_rel(a.prev.grad(), b.prev.grad()), 1e-6) << "T " << T;
    EXPECT_LT(max_rel(a.gamma.grad(), b.gamma.grad()), 1e-5) << "T " << T;
    if (T > 1) {
      EXPECT_EQ(ya[0][0][T - 1].item<float>(), 0.0f);  // masked: nothing from either side
      EXPECT_EQ(a.s.grad()[0][0][T - 1].item<float>(), 0.0f);
    }
    // Rows stay distributions.
    EXPECT_LT((ya.sum(-1) - 1).abs().max().item<float>(), 1e-5f);
  }
}

TEST(CarriedSoftmax, Bf16ScoresGiveFp32DistributionsWithinBf16Rounding) {
  // Under autocast the scores are bf16 and the first layer's D (prev) too; gamma is fp32.
  torch::manual_seed(8);
  auto c = make_case(2, 40, torch::kFloat);
  auto s = c.s.detach().to(torch::kBFloat16).requires_grad_();
  auto prev = c.prev.detach().to(torch::kBFloat16).requires_grad_();
  auto gamma = c.gamma.detach().requires_grad_();
  auto y = cstde::carried_softmax(s, prev, gamma);
  ASSERT_EQ(y.scalar_type(), torch::kFloat);  // as the unfused ops promote with an fp32 gamma
  y.backward(c.g);
  ASSERT_EQ(s.grad().scalar_type(), torch::kBFloat16);
  ASSERT_EQ(prev.grad().scalar_type(), torch::kBFloat16);
  auto r = copy(Case{s.detach(), prev.detach(), gamma.detach(), c.g}, torch::kDouble);
  auto yr = cstde::carried_softmax_unfused(r.s, r.prev, r.gamma);
  yr.backward(r.g);
  EXPECT_LT(max_rel(y, yr), 1e-6);  // computed in fp32 from the same bf16 inputs
  EXPECT_LT(max_rel(s.grad(), r.s.grad()), 1e-2);  // the gradient rounded to bf16
  EXPECT_LT(max_rel(prev.grad(), r.prev.grad()), 1e-2);
  EXPECT_LT(max_rel(gamma.grad(), r.gamma.grad()), 1e-5);
}

TEST(CarriedSoftmax, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(9);
  auto c = make_case(3, 37, torch::kFloat);
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto x = copy(c, torch::kFloat);
    cstde::carried_softmax(x.s, x.prev, x.gamma).backward(x.g);
    return std::vector<torch::Tensor>{x.s.grad(), x.prev.grad(), x.gamma.grad()};
  };
  const int before = at::get_num_threads();
  const auto one = run(1), two = run(2);
  at::set_num_threads(before);
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], two[i])) << i;
}

TEST(CarriedSoftmax, GradientsMatchCentralDifferencesInFp64) {
  // fp64 takes the unfused ops; the fp32 test ties the fused path to them.
  torch::manual_seed(10);
  auto c = make_case(1, 4, torch::kDouble);
  auto loss = [&](const torch::Tensor& s, const torch::Tensor& prev, const torch::Tensor& gamma) {
    return (cstde::carried_softmax(s, prev, gamma) * c.g).sum();
  };
  loss(c.s, c.prev, c.gamma).backward();
  const double h = 1e-6;
  torch::NoGradGuard ng;
  auto gp = c.gamma.detach() + h, gm = c.gamma.detach() - h;
  const double fg = (loss(c.s, c.prev, gp) - loss(c.s, c.prev, gm)).item<double>() / (2 * h);
  EXPECT_NEAR(c.gamma.grad().item<double>(), fg, 1e-7 * (1 + std::fabs(fg)));
  for (int t = 0; t < 4; ++t)
    for (int j = 0; j <= t; ++j) {
      auto sp = c.s.detach().clone(), sm = c.s.detach().clone();
      sp[0][t][j] += h;
      sm[0][t][j] -= h;
      const double fs = (loss(sp, c.prev, c.gamma) - loss(sm, c.prev, c.gamma)).item<double>() / (2 * h);
      EXPECT_NEAR(c.s.grad()[0][t][j].item<double>(), fs, 1e-7 * (1 + std::fabs(fs))) << t << "," << j;
    }
}

TEST(CarriedSoftmax, BadShapesAreRefused) {
  EXPECT_THROW(cstde::carried_softmax(torch::zeros({1, 3, 3}), torch::zeros({1, 3, 4}), torch::zeros({1})),
               c10::Error);
  EXPECT_THROW(cstde::carried_softmax(torch::zeros({1, 3, 3}), torch::zeros({1, 3, 3}), torch::zeros({2})),
               c10::Error);
}
