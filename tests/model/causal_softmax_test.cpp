// model::causal_softmax (scale, causal mask and softmax of the plain attention's scores in one
// fused pass, forward and backward) against a hand-worked case, against the same expression
// through autograd's ops in fp64, with a past (the KV cache's offset), in bf16, and in the whole
// GPT against the unfused attention.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "model/causal_softmax.h"
#include "model/precision.h"
#include "model_test_util.h"

using namespace structlm::model;
using structlm::model::testing::make_model;
using structlm::model::testing::max_abs_diff;
using structlm::model::testing::random_tokens;

namespace {

struct FusedSetting {
  explicit FusedSetting(int on) { set_fused_causal_softmax(on); }
  ~FusedSetting() { set_fused_causal_softmax(-1); }
};

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).norm().item<double>() /
         std::max(b.to(torch::kDouble).norm().item<double>(), 1e-30);
}

struct Grad {
  torch::Tensor P, dS;
};

// P and dL/dS for L = <P, g>, by the fused function or by the fp64 reference.
Grad run(const torch::Tensor& S0, const torch::Tensor& g, double scale, std::int64_t past, bool fused) {
  auto S = (fused ? S0.clone() : S0.to(torch::kDouble)).requires_grad_();
  const auto P = fused ? causal_softmax(S, scale, past) : causal_softmax_unfused(S, scale, past);
  P.backward(g.to(P.scalar_type()));
  return {P.detach(), S.grad()};
}

}  // namespace

// Two queries, three keys, past 1: query 0 sees keys 0-1, query 1 all three. With scale 0.5 and
// scores [2, 0, 9] and [0, 2, 4]: row 0 is softmax(1, 0) = (e / (e + 1), 1 / (e + 1), 0); row 1
// softmax(0, 1, 2). Upstream gradient (1, 0, 5) on row 0: dS = 0.5 P (g - <g, P>), and 0 on the
// masked key whatever its upstream gradient.
TEST(CausalSoftmax, HandWorkedCase) {
  const auto S = torch::tensor({{2.0f, 0.0f, 9.0f}, {0.0f, 2.0f, 4.0f}}).requires_grad_();
  const auto P = causal_softmax(S, 0.5, 1);
  const double e = std::exp(1.0);
  const double p00 = e / (e + 1), p01 = 1 / (e + 1);
  const double z = 1 + e + e * e;
  EXPECT_NEAR(P[0][0].item<float>(), p00, 1e-6);
  EXPECT_NEAR(P[0][1].item<float>(), p01, 1e-6);
  EXPECT_EQ(P[0][2].item<float>(), 0.0f);
  EXPECT_NEAR(P[1][0].item<float>(), 1 / z, 1e-6);
  EXPECT_NEAR(P[1][1].item<float>(), e / z, 1e-6);
  EXPECT_NEAR(P[1][2].item<float>(), e * e / z, 1e-6);
  P.backward(torch::tensor({{1.0f, 0.0f, 5.0f}, {0.0f, 0.0f, 0.0f}}));
  const double dot = p00;  // <(1, 0, 5), (p00, p01, 0)>
  EXPECT_NEAR(S.grad()[0][0].item<float>(), 0.5 * p00 * (1 - dot), 1e-6);
  EXPECT_NEAR(S.grad()[0][1].item<float>(), 0.5 * p01 * (0 - dot), 1e-6);
  EXPECT_EQ(S.grad()[0][2].item<float>(), 0.0f);
  EXPECT_EQ(S.grad()[1].abs().sum().item<float>(), 0.0f);
}

// fp32: within a few ulps of the fp64 reference, probabilities and gradients, with no past and
// with a past of 5 keys, on rows long enough for the vector loops and their tails (37 keys).
TEST(CausalSoftmax, Fp32MatchesFp64Reference) {
  torch::manual_seed(7);
  for (std::int64_t past : {0, 5}) {
    const std::int64_t N = 6, T = 32, Tk = past + T;
    const auto S = torch::randn({N, T, Tk}) * 6;
    const auto g = torch::randn({N, T, Tk});
    const auto fused = run(S, g, 0.125, past, true), ref = run(S, g, 0.125, past, false);
    EXPECT_LT(max_abs_diff(fused.P, ref.P), 2e-7) << "past " << past;
    EXPECT_LT(max_abs_diff(fused.dS, ref.dS), 1e-6) << "past " << past;
    // The masked keys: exactly 0 in both.
    const auto mask = torch::ones({T, Tk}, torch::kBool).triu(past + 1);
    EXPECT_EQ(fused.P.masked_select(mask).abs().sum().item<float>(), 0.0f);
    EXPECT_EQ(fused.dS.masked_select(mask).abs().sum().item<float>(), 0.0f);
    // Rows sum to 1.
    EXPECT_LT((fused.P.sum(-1) - 1).abs().max().item<float>(), 1e-6);
  }
}

// bf16 in and out: the fp64 reference on the same bf16 scores, rounded once to bf16, is within
// half a bf16 ulp of the exact value; the fused result within one ulp (relative 2^-7).
TEST(CausalSoftmax, Bf16WithinAnUlpOfTheReference) {
  torch::manual_seed(8);
  const auto S = (torch::randn({4, 24, 24}) * 4).to(torch::kBFloat16);
  const auto g = torch::randn({4, 24, 24}).to(torch::kBFloat16);
  const auto fused = run(S, g, 0.25, 0, true), ref = run(S, g, 0.25, 0, false);
  EXPECT_EQ(fused.P.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(fused.dS.scalar_type(), torch::kBFloat16);
  const auto ulp = [](const torch::Tensor& x) { return x.to(torch::kDouble).abs() * std::ldexp(1.0, -7) + 1e-30; };
  EXPECT_TRUE(((fused.P.to(torch::kDouble) - ref.P).abs() <= ulp(ref.P)).all().item<bool>());
  EXPECT_LT(rel_diff(fused.dS, ref.dS), 1e-2);
}

TEST(CausalSoftmax, RefusesScoresShorterThanPastPlusT) {
  EXPECT_THROW(causal_softmax(torch::zeros({2, 4, 5}), 1.0, 2), c10::Error);
}

TEST(CausalSoftmax, SettingIsOffUnlessAsked) {
  {
    FusedSetting on(1);
    EXPECT_TRUE(fused_causal_softmax());
  }
  {
    FusedSetting off(0);
    EXPECT_FALSE(fused_causal_softmax());
  }
  if (!std::getenv("STRUCTLM_FUSED_SOFTMAX")) EXPECT_FALSE(fused_causal_softmax());
}

namespace {

struct ModelRun {
  torch::Tensor logits;
  std::vector<torch::Tensor> grads;
};

ModelRun model_run(GPT& m, const torch::Tensor& idx, const torch::Tensor& tgt, bool fused, bool bf16) {
  FusedSetting setting(fused ? 1 : 0);
  m->zero_grad();
  torch::Tensor logits, loss;
  {
    AutocastGuard g(bf16 ? Precision::bf16 : Precision::fp32, torch::kCPU);
    logits = m->forward(idx);
    loss = m->loss(idx, tgt);
  }
  loss.backward();
  ModelRun r{logits.detach().to(torch::kFloat), {}};
  for (auto& p : m->parameters())
    if (p.requires_grad()) r.grads.push_back(p.grad().clone());
  return r;
}

}  // namespace

// The whole GPT: logits and every parameter's gradient with the fused softmax equal the unfused
// attention's, fp32 within 1e-5; under bf16 autocast both round the same products and
// probabilities, so the fused model's distance to the fp32 model is at most 1.5 times the
// unfused one's plus 0.5 %.
TEST(CausalSoftmax, ModelLogitsAndGradientsEqualTheUnfusedAttention) {
  auto c = structlm::model::testing::tiny_config(/*tied=*/false, /*bias=*/true);
  c.block_size = 48;
  c.n_embd = 32;
  c.vocab_size = 29;
  GPT m = make_model(c, 5, 0.3, torch::kFloat);
  for (std::int64_t T : {40, 7}) {
    const auto idx = random_tokens(3, T, c.vocab_size, 100 + T);
    const auto tgt = random_tokens(3, T, c.vocab_size, 200 + T);
    const auto off = model_run(m, idx, tgt, false, false), on = model_run(m, idx, tgt, true, false);
    EXPECT_LT(max_abs_diff(on.logits, off.logits), 1e-5) << "T " << T;
    ASSERT_EQ(on.grads.size(), off.grads.size());
    for (std::size_t i = 0; i < on.grads.size(); ++i)
      EXPECT_LT(max_abs_diff(on.grads[i], off.grads[i]), 1e-5 * std::max(1.0, off.grads[i].abs().max().item<double>()))
          << "T " << T << " parameter " << i;
    const auto off16 = model_run(m, idx, tgt, false, true), on16 = model_run(m, idx, tgt, true, true);
    EXPECT_LT(rel_diff(on16.logits, off.logits), 1.5 * rel_diff(off16.logits, off.logits) + 5e-3) << "T " << T;
    for (std::size_t i = 0; i < on16.grads.size(); ++i)
      if (off.grads[i].norm().item<double>() > 1e-4)
        EXPECT_LT(rel_diff(on16.grads[i], off.grads[i]), 1.5 * rel_diff(off16.grads[i], off.grads[i]) + 5e-3)
            << "T " << T << " parameter " << i;
  }
}
