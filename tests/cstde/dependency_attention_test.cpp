// CSTDE's dependency-weighted attention (docs/METHODS.md §1b): gradients against finite
// differences, the distance buckets and the carry by hand, the "starts as a plain transformer"
// guarantee, the plain config untouched, KV-cache decoding and causality. Parity with the
// independent Python model is in parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.h"
#include "core/json.h"
#include "cstde/dependency.h"
#include "cstde/prior_use.h"
#include "model/gpt.h"
#include "model/precision.h"
#include "model/model_test_util.h"

using namespace structlm::model;
using namespace structlm::model::testing;
using namespace structlm::cstde;
namespace zoo = structlm::zoo;

namespace {

GPTConfig cstde_config(bool carry, bool tied = true, bool bias = true) {
  GPTConfig c = tiny_config(tied, bias);
  c.cstde.attention = true;
  c.cstde.carry = carry;
  c.cstde.rank = 3;
  c.cstde.buckets = 4;       // exact for distances 0, 1; log-spaced 2..5; 6+ share bucket 3
  c.cstde.max_distance = 6;
  return c;
}

class CstdeGradCheck : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

// make_model randomizes every parameter, so beta, gamma and the bucket biases are all away from
// their initial values and every term of the dependency path carries gradient.
TEST_P(CstdeGradCheck, FiniteDifferencesMatchAutogradForEveryParameter) {
  const auto [carry, tied] = GetParam();
  const GPTConfig cfg = cstde_config(carry, tied);
  GPT m = make_model(cfg, 4321);
  const auto idx = random_tokens(2, 8, cfg.vocab_size, 3), targets = random_tokens(2, 8, cfg.vocab_size, 4);
  const auto [tensors, worst] = check_gradients(m, idx, targets, /*allow_frozen=*/false);
  // Plain: 28 (tied) / 29. CSTDE adds per layer u, v, rel_bias, dep_beta, and a carry logit in
  // every layer but the first.
  const int plain = tied ? 28 : 29;
  EXPECT_EQ(tensors, plain + 2 * 4 + (carry ? 1 : 0));
  std::cout << "[ gradcheck ] cstde carry=" << carry << " tied=" << tied << " tensors=" << tensors
            << " worst relative error " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(CarryAndTied, CstdeGradCheck, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "carry" : "nocarry") +
                                  (std::get<1>(info.param) ? "_tied" : "_untied");
                         });

// T5's table for 32 buckets, max distance 128: exact below 16, then 16 + floor(16 log(n/16)/log 8).
TEST(DistanceBucket, MatchesHandComputedT5Table) {
  for (int n = 0; n < 16; ++n) EXPECT_EQ(distance_bucket(n, 32, 128), n);
  EXPECT_EQ(distance_bucket(16, 32, 128), 16);
  EXPECT_EQ(distance_bucket(31, 32, 128), 21);   // 16 log2(31/16)/3 = 5.09
  EXPECT_EQ(distance_bucket(32, 32, 128), 21);   // 16/3 = 5.33
  EXPECT_EQ(distance_bucket(64, 32, 128), 26);   // 32/3 = 10.67
  EXPECT_EQ(distance_bucket(127, 32, 128), 31);  // 15.94
  EXPECT_EQ(distance_bucket(128, 32, 128), 31);  // 16, clamped to the last bucket
  EXPECT_EQ(distance_bucket(5000, 32, 128), 31);
  EXPECT_EQ(distance_bucket(-3, 32, 128), 0);
}

// One layer's D by hand: rank 1, U = V = (1, 0, ..), so s_ij = x_i0 x_j0 + b[bucket(i-j)].
TEST(DependencyScorer, OneLayerByHandAndCarry) {
  GPTConfig c = cstde_config(/*carry=*/true);
  c.cstde.rank = 1;
  c.n_embd = 2;
  c.n_head = 1;
  torch::manual_seed(0);
  DependencyScorer first(c, /*carries=*/false), second(c, /*carries=*/true);
  for (auto* s : {&first, &second}) {
    (*s)->to(torch::kFloat64);
    torch::NoGradGuard g;
    (*s)->u->weight.copy_(torch::tensor({{1.0, 0.0}}, torch::kFloat64));
    (*s)->v->weight.copy_(torch::tensor({{1.0, 0.0}}, torch::kFloat64));
    (*s)->rel_bias.copy_(torch::tensor({0.5, -1.0, 0.25, 2.0}, torch::kFloat64));
  }
  {
    torch::NoGradGuard g;
    second->carry_logit.fill_(std::log(3.0));  // gamma = 3/4
  }
  EXPECT_FALSE(first->carry_logit.defined());
  const std::vector<double> x0 = {0.3, -1.2, 2.0};  // feature 0 of three positions
  auto x = torch::zeros({1, 3, 2}, torch::kFloat64);
  for (int i = 0; i < 3; ++i) x[0][i][0] = x0[i];

  const double b[] = {0.5, -1.0, 0.25, 2.0};
  double expect[3][3] = {};
  for (int i = 0; i < 3; ++i) {
    double z = 0;
    for (int j = 0; j <= i; ++j) z += std::exp(x0[i] * x0[j] + b[i - j]);  // distances 0..2 are buckets 0..2
    for (int j = 0; j <= i; ++j) expect[i][j] = std::exp(x0[i] * x0[j] + b[i - j]) / z;
  }
  auto d1 = first->forward(x, torch::Tensor());
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(d1[0][i][j].item<double>(), expect[i][j], 1e-14) << i << "," << j;

  // The second layer mixes a given previous D with its own fresh one: 1/4 prev + 3/4 fresh.
  auto prev = torch::rand({1, 3, 3}, torch::kFloat64).tril();
  auto d2 = second->forward(x, prev);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(d2[0][i][j].item<double>(), 0.25 * prev[0][i][j].item<double>() + 0.75 * expect[i][j], 1e-14);
}

TEST(DependencyScorer, RowsAreDistributionsOverThePast) {
  GPT m = make_model(cstde_config(true), 7);
  ForwardTrace trace;
  torch::NoGradGuard g;
  m->forward(random_tokens(2, 8, 13, 5), nullptr, &trace);
  ASSERT_EQ(trace.dependency.size(), 2u);
  ASSERT_EQ(trace.attention.size(), 2u);
  for (auto& d : trace.dependency) {
    ASSERT_EQ(d.sizes(), (std::vector<std::int64_t>{2, 8, 8}));  // one T x T per layer, not per head
    EXPECT_LT((d.sum(-1) - 1).abs().max().item<double>(), 1e-12);
    EXPECT_EQ(d.triu(1).abs().max().item<double>(), 0.0);
    EXPECT_GE(d.min().item<double>(), 0.0);
  }
  for (auto& a : trace.attention) EXPECT_LT((a.sum(-1) - 1).abs().max().item<double>(), 1e-12);
}

// beta starts at 0, so a fresh CSTDE model computes exactly what the plain model with the same
// shared weights computes (log D is multiplied by an exact zero).
TEST(CstdeAttention, StartsAsThePlainTransformer) {
  GPTConfig plain_cfg = tiny_config(true, true), dep_cfg = cstde_config(true);
  torch::manual_seed(11);
  GPT plain(plain_cfg), dep = zoo::make_gpt(dep_cfg);
  plain->to(torch::kFloat64);
  dep->to(torch::kFloat64);
  randomize(*plain, 0.3);
  {
    torch::NoGradGuard g;
    auto dep_params = dep->named_parameters();
    for (auto& item : plain->named_parameters()) dep_params[item.key()].copy_(item.value());
    for (auto& item : dep_params)
      if (item.key().find(".dep.") != std::string::npos) item.value().normal_(0, 0.5);  // scorer: anything
  }
  const auto idx = random_tokens(2, 8, 13, 6);
  EXPECT_EQ(max_abs_diff(plain->forward(idx), dep->forward(idx)), 0.0);
}

TEST(CstdeConfig, PlainConfigIsUnchangedAndSwitchesRoundTrip) {
  GPTConfig plain = tiny_config(true, true);
  EXPECT_FALSE(plain.to_json().contains("cstde"));  // checkpoints of plain models stay byte-identical
  torch::manual_seed(1);
  GPT m(plain);
  for (auto& item : m->named_parameters())
    EXPECT_EQ(item.key().find("dep"), std::string::npos) << item.key();

  GPTConfig c = cstde_config(false);
  c.cstde.init = true;
  auto back = GPTConfig::from_json(c.to_json(), "cfg.json");
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_TRUE(back.cstde.attention && back.cstde.init && !back.cstde.carry);

  auto j = plain.to_json();
  j["cstde"] = {{"attention", true}, {"rank", 0}};
  try {
    GPTConfig::from_json(j, "cfg.json");
    FAIL() << "rank 0 accepted";
  } catch (const structlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cstde.rank"), std::string::npos) << e.what();
  }
  j["cstde"] = {{"attention", true}, {"rnak", 4}};
  EXPECT_THROW(GPTConfig::from_json(j, "cfg.json"), structlm::Error);
  j["cstde"] = {{"attention", true}, {"rank", 100}};  // more than n_embd = 8
  EXPECT_THROW(GPTConfig::from_json(j, "cfg.json"), structlm::Error);
  // Sizes whose products would overflow are refused before anything is computed or allocated.
  auto huge = plain.to_json();
  huge["vocab_size"] = std::int64_t(1) << 40;
  try {
    GPTConfig::from_json(huge, "cfg.json");
    FAIL() << "vocab_size 2^40 accepted";
  } catch (const structlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_size"), std::string::npos) << e.what();
  }
}

// The model owns only the key-prior interface: a CSTDE config built without the prior is refused
// (a programming error, not a silent plain model), and the zoo plugs CSTDE's scorer in at h.N.dep.
TEST(CstdeConfig, ModelNeedsThePriorAndTheZooSuppliesIt) {
  const GPTConfig c = cstde_config(true);
  try {
    GPT m(c);
    FAIL() << "a CSTDE config was built without its key prior";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("zoo::make_gpt"), std::string::npos) << e.what();
  }
  GPT m = zoo::make_gpt(c);
  for (std::size_t l = 0; l < m->blocks.size(); ++l) {
    auto scorer = std::dynamic_pointer_cast<DependencyScorerImpl>(m->blocks[l]->dep);
    ASSERT_TRUE(scorer) << "layer " << l;
    EXPECT_EQ(scorer->carry_logit.defined(), l > 0) << "layer " << l;  // the first layer never carries
  }
  EXPECT_FALSE(zoo::key_prior_for(tiny_config(true, true)));  // a plain config needs none
}

TEST(CstdeConfig, ParameterCountMatchesModel) {
  for (bool carry : {true, false})
    for (bool tied : {true, false}) {
      for (const char* scorer : {"bilinear", "distance"})
        for (bool trainable : {true, false}) {
          GPTConfig c = cstde_config(carry, tied);
          c.cstde.scorer = scorer;
          c.cstde.prior_trainable = trainable;
          torch::manual_seed(1);
          GPT m = zoo::make_gpt(c);
          EXPECT_EQ(m->num_params(), c.num_params())
              << "carry=" << carry << " tied=" << tied << " scorer=" << scorer << " trainable=" << trainable;
        }
    }
}

TEST(CstdeAttention, IncrementalDecodingMatchesFullForward) {
  for (bool carry : {true, false}) {
    GPT m = make_model(cstde_config(carry), 21);
    torch::NoGradGuard g;
    const auto idx = random_tokens(2, 8, 13, 8);
    const auto full = m->forward(idx);
    KVCache cache;
    auto first = m->forward(idx.slice(1, 0, 5), &cache);  // a prompt, then one token at a time
    EXPECT_LT(max_abs_diff(first, full.slice(1, 0, 5)), 1e-12);
    for (int t = 5; t < 8; ++t) {
      auto step = m->forward(idx.slice(1, t, t + 1), &cache);
      EXPECT_LT(max_abs_diff(step, full.slice(1, t, t + 1)), 1e-12) << "carry=" << carry << " t=" << t;
    }
  }
}

TEST(CstdeAttention, FutureTokensDoNotAffectEarlierLogits) {
  GPT m = make_model(cstde_config(true), 31);
  torch::NoGradGuard g;
  auto a = random_tokens(1, 8, 13, 9);
  auto b = a.clone();
  b[0][6] = (b[0][6].item<std::int64_t>() + 1) % 13;
  auto la = m->forward(a), lb = m->forward(b);
  EXPECT_EQ(max_abs_diff(la.slice(1, 0, 6), lb.slice(1, 0, 6)), 0.0);
  EXPECT_GT(max_abs_diff(la.slice(1, 6, 8), lb.slice(1, 6, 8)), 1e-6);
}

// The controls of issue 14: scorer "distance" is D from the distance bias alone (no U, V: the
// same D whatever the tokens), and prior_trainable false freezes that bias, so with the
// log-distance init D is fixed to the prior D_ij proportional to 1 / (1 + i - j).
TEST(CstdeControls, DistanceScorerReadsNoTokenAndAFrozenPriorStaysPut) {
  GPTConfig c = cstde_config(/*carry=*/true);
  c.cstde.scorer = "distance";
  c.cstde.prior_trainable = false;
  c.cstde.buckets = 16;  // exact for distances 0..7, longer than the 8-token context: b(k) = -log(1 + k)
  c.cstde.max_distance = 16;
  torch::manual_seed(5);
  GPT m = zoo::make_gpt(c);
  std::set<std::string> names;
  for (const auto& item : m->named_parameters()) names.insert(item.key());
  EXPECT_FALSE(names.count("h.0.dep.u.weight"));
  EXPECT_TRUE(names.count("h.0.dep.rel_bias"));
  EXPECT_TRUE(names.count("h.1.dep.carry_logit"));
  auto trace_of = [&](const torch::Tensor& idx) {
    ForwardTrace t;
    m->forward(idx, nullptr, &t);
    return t;
  };
  const auto a = random_tokens(2, 8, 13, 1), b = random_tokens(2, 8, 13, 2);
  ForwardTrace ta, tb;
  {
    torch::NoGradGuard g;
    ta = trace_of(a);
    tb = trace_of(b);
  }
  // Layer 0's D is the prior itself: row i is (1 / (1 + i - j)) normalised over j <= i.
  const auto D0 = ta.dependency[0][0];
  for (int i = 0; i < 8; ++i) {
    double z = 0;
    for (int j = 0; j <= i; ++j) z += 1.0 / (1 + i - j);
    for (int j = 0; j < 8; ++j) {
      const double want = j <= i ? 1.0 / (1 + i - j) / z : 0.0;
      EXPECT_NEAR(D0[i][j].item<double>(), want, 1e-6) << i << "," << j;  // float32
    }
  }
  for (std::size_t l = 0; l < ta.dependency.size(); ++l) {
    EXPECT_EQ(max_abs_diff(ta.dependency[l], tb.dependency[l]), 0.0) << "layer " << l << " read the tokens";
    EXPECT_EQ(max_abs_diff(ta.dependency[l][0], ta.dependency[l][1]), 0.0);
  }
  // Trained: the frozen bias gets no gradient and is not among the optimizer's parameters; the
  // gates do learn.
  m->train();
  m->loss(a, b).backward();
  EXPECT_FALSE(m->named_parameters()["h.0.dep.rel_bias"].grad().defined());
  EXPECT_TRUE(m->named_parameters()["h.0.attn.dep_beta"].grad().defined());
  for (const auto& p : m->no_decay_params()) EXPECT_FALSE(p.is_same(m->named_parameters()["h.0.dep.rel_bias"]));
  // A trainable distance scorer learns its bias.
  c.cstde.prior_trainable = true;
  GPT t = make_model(c, 9);
  t->loss(a, b).backward();
  EXPECT_GT(t->named_parameters()["h.0.dep.rel_bias"].grad().abs().sum().item<double>(), 0.0);
}

// prior_use by hand: betas set to known values, the carry gate at sigmoid(0) = 1/2, and D fixed
// to the prior (so its entropy is that of rows p_ij proportional to 1 / (1 + i - j)).
TEST(CstdeControls, PriorUseByHand) {
  GPTConfig c = cstde_config(/*carry=*/true);
  c.cstde.scorer = "distance";
  c.cstde.prior_trainable = false;
  c.cstde.buckets = 16;
  c.cstde.max_distance = 16;
  torch::manual_seed(5);
  GPT m = zoo::make_gpt(c);
  {
    torch::NoGradGuard g;
    m->blocks[0]->attn->dep_beta.copy_(torch::tensor({0.5, -0.5}));
    m->blocks[1]->attn->dep_beta.copy_(torch::tensor({1.0, 2.0}));
  }
  m->eval();
  auto use = prior_use(*m, random_tokens(2, 8, 13, 1));
  EXPECT_NEAR(*use.prior_weight, 1.0, 1e-7);  // (0.5 + 0.5 + 1 + 2) / 4
  EXPECT_NEAR(*use.carry_gate, 0.5, 1e-7);    // layer 1 carries, gamma = sigmoid(0)
  double h = 0;
  for (int i = 0; i < 8; ++i) {
    double z = 0;
    for (int j = 0; j <= i; ++j) z += 1.0 / (1 + i - j);
    for (int j = 0; j <= i; ++j) h -= (1.0 / (1 + i - j) / z) * std::log(1.0 / (1 + i - j) / z);
  }
  EXPECT_NEAR(*use.d_entropy, h / 8, 1e-6);
  EXPECT_FALSE(prior_use(*m).d_entropy.has_value());  // no tokens: parameters only
  GPT plain = zoo::make_gpt(tiny_config(true, true));
  const auto none = prior_use(*plain, random_tokens(1, 4, 13, 1));
  EXPECT_FALSE(none.prior_weight || none.carry_gate || none.d_entropy);
}

TEST(CstdeControls, DistanceScorerDecodesIncrementallyAndHasItsGradients) {
  GPTConfig c = cstde_config(/*carry=*/true);
  c.cstde.scorer = "distance";
  GPT m = make_model(c, 21);
  {
    torch::NoGradGuard g;
    const auto idx = random_tokens(2, 8, 13, 8);
    const auto full = m->forward(idx);
    KVCache cache;
    auto first = m->forward(idx.slice(1, 0, 5), &cache);
    EXPECT_LT(max_abs_diff(first, full.slice(1, 0, 5)), 1e-12);
    for (int t = 5; t < 8; ++t)
      EXPECT_LT(max_abs_diff(m->forward(idx.slice(1, t, t + 1), &cache), full.slice(1, t, t + 1)), 1e-12) << t;
  }
  const auto idx = random_tokens(2, 8, c.vocab_size, 3), targets = random_tokens(2, 8, c.vocab_size, 4);
  const auto [tensors, worst] = check_gradients(m, idx, targets, /*allow_frozen=*/false);
  EXPECT_GT(tensors, 0);
  EXPECT_LT(worst, 1e-6);
  // Under bf16 autocast (train.precision bf16) it runs forward and backward, close to fp32.
  GPT f = make_model(c, 22, 0.3, torch::kFloat32);
  const double fp32 = f->loss(idx, targets).item<double>();
  torch::Tensor bf16;
  {
    AutocastGuard autocast(Precision::bf16, torch::kCPU);
    bf16 = f->loss(idx, targets);
  }
  bf16.backward();
  EXPECT_NEAR(bf16.item<double>(), fp32, 0.05 * fp32);
  EXPECT_TRUE(f->named_parameters()["h.1.dep.rel_bias"].grad().isfinite().all().item<bool>());
  // The config names an unknown scorer.
  structlm::json j = c.cstde.to_json();
  j["scorer"] = "attention";
  try {
    CstdeConfig::from_json(j, "cfg.json");
    ADD_FAILURE() << "an unknown scorer was accepted";
  } catch (const structlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("scorer"), std::string::npos) << e.what();
  }
}

}  // namespace
