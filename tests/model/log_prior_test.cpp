// model::add_log_prior (CSTDE's beta_h * log(D + eps) on the attention logits, with a fused
// backward) against the same expression through autograd's ops and against central differences
// in fp64, on causal shapes with masked (-inf, D = 0) entries as the model has them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/log_prior.h"

using namespace structlm;

namespace {

struct Case {
  torch::Tensor att, beta, D, g;
};

// Causal logits (-inf above the diagonal), a causal distribution D, and an upstream gradient that
// is zero where softmax would give zero (the masked entries).
Case make_case(std::int64_t B, std::int64_t H, std::int64_t T, torch::Dtype dtype) {
  auto mask = torch::ones({T, T}, torch::kBool).triu(1);
  Case c;
  c.att = torch::randn({B, H, T, T}, dtype).masked_fill(mask, -INFINITY).requires_grad_();
  c.beta = (torch::randn({H}, dtype) * 0.5).requires_grad_();
  c.D = torch::softmax(torch::randn({B, T, T}, dtype).masked_fill(mask, -INFINITY), -1).requires_grad_();
  c.g = torch::randn({B, H, T, T}, dtype).masked_fill(mask, 0.0);
  return c;
}

}  // namespace

TEST(LogPrior, Fp32FusedBackwardMatchesAutograd) {
  torch::manual_seed(3);
  for (auto T : {1, 7, 33}) {  // odd lengths exercise the vector loops' tails
    auto a = make_case(2, 3, T, torch::kFloat);
    auto b = Case{a.att.detach().clone().requires_grad_(), a.beta.detach().clone().requires_grad_(),
                  a.D.detach().clone().requires_grad_(), a.g};
    auto ya = model::add_log_prior(a.att, a.beta, a.D, 1e-6);
    auto yb = model::add_log_prior_unfused(b.att, b.beta, b.D, 1e-6);
    EXPECT_TRUE(torch::equal(ya, yb)) << "T " << T;  // the forward is the same ops
    ya.backward(a.g);
    yb.backward(b.g);
    EXPECT_TRUE(torch::equal(a.att.grad(), b.att.grad()));
    EXPECT_TRUE(torch::allclose(a.D.grad(), b.D.grad(), 1e-5, 1e-5)) << (a.D.grad() - b.D.grad()).abs().max();
    EXPECT_TRUE(torch::allclose(a.beta.grad(), b.beta.grad(), 1e-5, 1e-4)) << a.beta.grad() << b.beta.grad();
    EXPECT_FALSE(a.D.grad().isnan().any().item<bool>());
    // Masked entries (D = 0, zero upstream gradient) get exactly zero gradient.
    if (T > 1) EXPECT_EQ(a.D.grad()[0][0][T - 1].item<float>(), 0.0f);
  }
}

TEST(LogPrior, GradientsMatchCentralDifferencesInFp64) {
  torch::manual_seed(4);
  // fp64 takes the unfused backward; the fp32 test above ties the fused one to it. Here the
  // whole op is checked against the function itself: L = sum(g * out) over the finite entries.
  auto c = make_case(1, 2, 4, torch::kDouble);
  auto loss = [&](const torch::Tensor& att, const torch::Tensor& beta, const torch::Tensor& D) {
    auto out = model::add_log_prior(att, beta, D, 1e-3);
    return (out.masked_fill(out.isinf(), 0) * c.g).sum();
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
    }
}

TEST(LogPrior, Bf16LogitsKeepAddcmulsPromotion) {
  // Under autocast the logits are bf16 and beta, D fp32: the result is fp32 as addcmul's, and the
  // logits' gradient comes back in bf16.
  torch::manual_seed(5);
  auto c = make_case(1, 2, 5, torch::kFloat);
  auto att = c.att.detach().to(torch::kBFloat16).requires_grad_();
  auto y = model::add_log_prior(att, c.beta, c.D, 1e-6);
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  y.backward(c.g);
  EXPECT_EQ(att.grad().scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(y, model::add_log_prior_unfused(att, c.beta, c.D, 1e-6)));
}

TEST(LogPrior, BadShapesAreRefused) {
  EXPECT_THROW(model::add_log_prior(torch::zeros({1, 2, 3, 3}), torch::zeros({3}), torch::zeros({1, 3, 3}), 1e-6),
               c10::Error);
}
