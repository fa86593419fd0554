// model::cross_entropy (fused over the vocabulary for fp32 and bf16 logits) against torch's
// cross_entropy on the same logits widened to fp32 or fp64, forward and gradient, with ignored
// targets, and refusing targets outside the vocabulary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "model/cross_entropy.h"

using namespace structlm;
namespace F = torch::nn::functional;

namespace {

double max_abs(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

}  // namespace

TEST(CrossEntropy, Fp32MatchesTorchInValueAndGradient) {
  torch::manual_seed(11);
  for (auto V : {1, 5, 37, 1000}) {  // odd widths exercise the vector loops' tails
    auto z = (torch::randn({13, V}) * 3).requires_grad_();
    auto zr = z.detach().to(torch::kDouble).requires_grad_();
    auto t = torch::randint(V, {13}, torch::kLong);
    t[4] = -100;  // ignored, as torch's default ignore_index
    auto loss = model::cross_entropy(z, t);
    auto ref = F::cross_entropy(zr, t);
    ASSERT_EQ(loss.scalar_type(), torch::kFloat);
    EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-6 * (1 + std::fabs(ref.item<double>()))) << "V " << V;
    (loss * 2.5).backward();
    (ref * 2.5).backward();
    EXPECT_LT(max_abs(z.grad(), zr.grad()), 1e-7) << "V " << V;
    EXPECT_EQ(z.grad()[4].abs().max().item<float>(), 0.0f);  // the ignored row has no gradient
  }
}

TEST(CrossEntropy, Bf16LogitsAreComputedInFp32AndTheGradientRoundedOnce) {
  torch::manual_seed(12);
  auto z = (torch::randn({32, 515}) * 4).to(torch::kBFloat16).requires_grad_();
  auto zr = z.detach().to(torch::kDouble).requires_grad_();
  const auto t = torch::randint(515, {32}, torch::kLong);
  auto loss = model::cross_entropy(z, t);
  auto ref = F::cross_entropy(zr, t);
  ASSERT_EQ(loss.scalar_type(), torch::kFloat);
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-6 * ref.item<double>());  // the same bf16 inputs
  loss.backward();
  ref.backward();
  ASSERT_EQ(z.grad().scalar_type(), torch::kBFloat16);
  // One bf16 rounding of each gradient entry: relative 2^-8, plus fp32 noise near zero.
  const auto want = zr.grad();
  EXPECT_TRUE(((z.grad().to(torch::kDouble) - want).abs() <= want.abs() / 256 + 1e-9).all().item<bool>());
}

TEST(CrossEntropy, ResultsDoNotDependOnTheThreadCount) {
  torch::manual_seed(13);
  const auto z0 = torch::randn({67, 301});
  const auto t = torch::randint(301, {67}, torch::kLong);
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto z = z0.clone().requires_grad_();
    auto loss = model::cross_entropy(z, t);
    loss.backward();
    return std::make_pair(loss.detach(), z.grad());
  };
  const int before = at::get_num_threads();
  const auto one = run(1), two = run(2);
  at::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one.first, two.first));
  EXPECT_TRUE(torch::equal(one.second, two.second));
}

TEST(CrossEntropy, Fp64IsTorchsAndBadTargetsAreRefused) {
  torch::manual_seed(14);
  auto z = torch::randn({4, 6}, torch::kDouble);
  const auto t = torch::tensor({0, 5, 2, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(model::cross_entropy(z, t), F::cross_entropy(z, t)));
  for (auto bad : {6L, -1L}) {
    try {
      model::cross_entropy(torch::randn({4, 6}), torch::tensor({0L, bad, 2L, 3L}));
      ADD_FAILURE() << "target " << bad << " accepted";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find("outside the vocabulary"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(model::cross_entropy(torch::randn({4, 6}), torch::zeros({3}, torch::kLong)), c10::Error);
}
