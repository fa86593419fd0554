// model::log_prior_softmax (CSTDE's softmax over keys of the logits plus beta_h * log(D + eps), with
// a fused forward and backward) against the same expression through autograd's ops, against fp64,
// and against central differences, on causal shapes with masked (-inf, D = 0) entries as the model
// has them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>

#include "model/log_prior.h"

using namespace structlm;

namespace {

struct Case {
  torch::Tensor att, beta, D, g;
};

// Causal logits (-inf above the diagonal), a causal distribution D, and an upstream gradient.
Case make_case(std::int64_t B, std::int64_t H, std::int64_t T, torch::Dtype dtype) {
  auto mask = torch::ones({T, T}, torch::kBool).triu(1);
  Case c;
  c.att = (torch::randn({B, H, T, T}, dtype) * 2).masked_fill(mask, -INFINITY).requires_grad_();
  c.beta = (torch::randn({H}, dtype) * 0.5).requires_grad_();
  c.D = torch::softmax(torch::randn({B, T, T}, dtype).masked_fill(mask, -INFINITY), -1).requires_grad_();
  c.g = torch::randn({B, H, T, T}, dtype);
  return c;
}

Case copy(const Case& a, torch::Dtype dtype) {
  return Case{a.att.detach().to(dtype).requires_grad_(), a.beta.detach().to(dtype).requires_grad_(),
              a.D.detach().to(dtype).requires_grad_(), a.g.to(dtype)};
}

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kDouble), y = b.to(torch::kDouble);
  return ((x - y).abs().max() / y.abs().max().clamp_min(1e-30)).item<double>();
}

}  // namespace

TEST(LogPriorSoftmax, ExpMatchesStdExpAndGivesZeroForMaskedLogits) {
  double worst = 0.0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f * float(i) / 200000.0f;
    const double want = std::exp(double(x));
    worst = std::max(worst, std::fabs(double(model::detail::softmax_exp(x)) - want) / want);
  }
  EXPECT_LT(worst, 3e-7);  // a couple of fp32 ulps
  EXPECT_EQ(model::detail::softmax_exp(0.0f), 1.0f);
  EXPECT_EQ(model::detail::softmax_exp(-100.0f), 0.0f);
  EXPECT_EQ(model::detail::softmax_exp(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(LogPriorSoftmax, Fp32FusedMatchesAutograd) {
  torch::manual_seed(3);
  for (auto T : {1, 7, 33}) {  // odd lengths exercise the vector loops' tails
    auto a = make_case(2, 3, T, torch::kFloat);
    auto b = copy(a, torch::kFloat);
    auto ya = model::log_prior_softmax(a.att, a.beta, a.D, 1e-6);
    auto yb = model::log_prior_softmax_unfused(b.att, b.beta, b.D, 1e-6);
    EXPECT_EQ(ya.scalar_type(), torch::kFloat);
    EXPECT_LT(max_rel(ya, yb), 1e-6) << "T " << T;
    ya.backward(a.g);
    yb.backward(b.g);
    EXPECT_LT(max_rel(a.att.grad(), b.att.grad()), 1e-5) << "T " << T;
    EXPECT_LT(max_rel(a.D.grad(), b.D.grad()), 1e-5) << "T " << T;
    EXPECT_LT(max_rel(a.beta.grad(), b.beta.grad()), 1e-5) << "T " << T;
    if (T > 1) {
      // Masked keys get exactly zero weight and zero gradient (D = 0 there: no 0/0 either).
      EXPECT_EQ(ya[0][0][0][T - 1].item<float>(), 0.0f);
      EXPECT_EQ(a.att.grad()[0][0][0][T - 1].item<float>(), 0.0f);
      EXPECT_EQ(a.D.grad()[0][0][T - 1].item<float>(), 0.0f);
    }
    EXPECT_FALSE(a.D.grad().isnan().any().item<bool>());
  }
}

TEST(LogPriorSoftmax, Bf16LogitsMatchFp64WithinBf16Rounding) {
  // Under autocast the logits are bf16 and beta, D fp32: the probabilities and the logits'
  // gradient come back in bf16, computed in fp32 inside.
  torch::manual_seed(5);
  auto c = make_case(2, 4, 40, torch::kFloat);
  auto att = c.att.detach().to(torch::kBFloat16).requires_grad_();
  auto beta = c.beta.detach().requires_grad_();
  auto D = c.D.detach().requires_grad_();
  auto y = model::log_prior_softmax(att, beta, D, 1e-6);
  ASSERT_EQ(y.scalar_type(), torch::kBFloat16);
  y.backward(c.g.to(torch::kBFloat16));
  ASSERT_EQ(att.grad().scalar_type(), torch::kBFloat16);
  ASSERT_EQ(D.grad().scalar_type(), torch::kFloat);

  auto r = copy(Case{att.detach(), beta, D, c.g.to(torch::kBFloat16)}, torch::kDouble);
  auto yr = model::log_prior_softmax_unfused(r.att, r.beta, r.D, 1e-6);
  yr.backward(r.g);
  EXPECT_LT(max_rel(y, yr), 4e-3);  // bf16 keeps 8 bits: half an ulp is 2e-3 of the value
  // The same probabilities as the unfused fp32 computation rounded to bf16, bar ties of rounding.
  const auto unf = model::log_prior_softmax_unfused(att.detach(), beta.detach(), D.detach(), 1e-6);
  EXPECT_LT((y.to(torch::kFloat) != unf.to(torch::kFloat)).to(torch::kFloat).mean().item<double>(), 0.01);
  // Gradients from bf16 probabilities: a few bf16 ulps of the largest entry.
  EXPECT_LT(max_rel(att.grad(), r.att.grad()), 2e-2);
  EXPECT_LT(max_rel(D.grad(), r.D.grad()), 2e-2);
  EXPECT_LT(max_rel(beta.grad(), r.beta.grad()), 2e-2);
}

TEST(LogPriorSoftmax, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(6);
  auto c = make_case(3, 2, 37, torch::kFloat);
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto x = copy(c, torch::kFloat);
    model::log_prior_softmax(x.att, x.beta, x.D, 1e-6).backward(x.g);
    return std::vector<torch::Tensor>{x.att.grad(), x.beta.grad(), x.D.grad()};
  };
  const int before = at::get_num_threads();
  const auto one = run(1), two = run(2);
  at::set_num_threads(before);
  for (std::size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], two[i])) << i;
}

TEST(LogPriorSoftmax, GradientsMatchCentralDifferencesInFp64) {
  torch::manual_seed(4);
  // fp64 takes the unfused ops; the tests above tie the fused path to them. Here the function is
  // checked against itself: L = sum(g * P).
  auto c = make_case(1, 2, 4, torch::kDouble);
  auto loss = [&](const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D) {
    return (model::log_prior_softmax(att, beta, D, 1e-3) * c.g).sum();
  };
  loss(c.att, c.beta, c.D).backward();
  const double h = 1e-6;
  torch::NoGradGuard ng;
  for (int k = 0; k < 2; ++k) {
    auto bp = c.beta.detach().clone(), bm = c.beta.detach().clone();
    bp[k] += h;
    bm[k] -= h;
    const double fd = (loss(c.att, bp, c.D) - loss(c.att, bm, c.D)).item<double>() / (2 * h);
    EXPECT_NEAR(c.beta.grad()[k].item<double>(), fd, 1e-6 * (1 + std::fabs(fd)));
  }
  for (int t = 0; t < 4; ++t)
    for (int s = 0; s <= t; ++s) {
      auto dp = c.D.detach().clone(), dm = c.D.detach().clone();
      dp[0][t][s] += h;
      dm[0][t][s] -= h;
      const double fd = (loss(c.att, c.beta, dp) - loss(c.att, c.beta, dm)).item<double>() / (2 * h);
      EXPECT_NEAR(c.D.grad()[0][t][s].item<double>(), fd, 1e-5 * (1 + std::fabs(fd))) << t << "," << s;
      auto ap = c.att.detach().clone(), am = c.att.detach().clone();
      ap[0][1][t][s] += h;
      am[0][1][t][s] -= h;
      const double fa = (loss(ap, c.beta, c.D) - loss(am, c.beta, c.D)).item<double>() / (2 * h);
      EXPECT_NEAR(c.att.grad()[0][1][t][s].item<double>(), fa, 1e-6 * (1 + std::fabs(fa))) << t << "," << s;
    }
}

TEST(LogPriorSoftmax, BadShapesAreRefused) {
  EXPECT_THROW(model::log_prior_softmax(torch::zeros({1, 2, 3, 3}), torch::zeros({3}), torch::zeros({1, 3, 3}), 1e-6),
               c10::Error);
  EXPECT_THROW(model::log_prior_softmax(torch::zeros({1, 2, 3, 3}), torch::zeros({2}), torch::zeros({1, 3, 4}), 1e-6),
               c10::Error);
}
