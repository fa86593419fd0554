// Correctness of the GPT model on its own: gradients against finite differences, a forward pass
// computed by hand, KV-cache decoding, causality, and parameter bookkeeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "model/gpt.h"
#include "model_test_util.h"

using namespace structlm::model;
using namespace structlm::model::testing;

namespace {

// ---- gradients -------------------------------------------------------------------------------

class GradCheck : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

// Finite differences against autograd for every trainable tensor (check_gradients, float64).
TEST_P(GradCheck, FiniteDifferencesMatchAutogradForEveryParameter) {
  const auto [tied, bias] = GetParam();
  const GPTConfig cfg = tiny_config(tied, bias);
  GPT m = make_model(cfg, 1234);
  const auto idx = random_tokens(2, 6, cfg.vocab_size, 1), targets = random_tokens(2, 6, cfg.vocab_size, 2);

  const auto [tensors, worst] = check_gradients(m, idx, targets, /*allow_frozen=*/!bias);
  EXPECT_EQ(tensors, bias ? (tied ? 28 : 29) : (tied ? 15 : 16));
  std::cout << "[ gradcheck ] tied=" << tied << " bias=" << bias << " tensors=" << tensors
            << " worst relative error " << worst << "\n";
}

INSTANTIATE_TEST_SUITE_P(TiedAndBias, GradCheck, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "tied" : "untied") +
                                  (std::get<1>(info.param) ? "_bias" : "_nobias");
                         });

// ---- a forward pass by hand ------------------------------------------------------------------

using V2 = std::array<double, 2>;
using M2 = std::array<V2, 2>;  // rows

V2 add(V2 a, V2 b) { return {a[0] + b[0], a[1] + b[1]}; }
V2 scale(V2 a, double s) { return {a[0] * s, a[1] * s}; }
double dot(V2 a, V2 b) { return a[0] * b[0] + a[1] * b[1]; }
V2 affine(M2 W, V2 x, V2 b) { return {dot(W[0], x) + b[0], dot(W[1], x) + b[1]}; }
V2 layer_norm(V2 x, V2 g, V2 b) {
  const double mean = (x[0] + x[1]) / 2;
  const double var = ((x[0] - mean) * (x[0] - mean) + (x[1] - mean) * (x[1] - mean)) / 2;  // biased
  const double r = 1 / std::sqrt(var + 1e-5);
  return {(x[0] - mean) * r * g[0] + b[0], (x[1] - mean) * r * g[1] + b[1]};
}
double gelu_tanh(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

// One layer, one head, width 2, two tokens: every number below is a step of the GPT-2 equations
// written out with scalars, so a wrong mask, scale, LayerNorm, GELU variant, residual or tying
// shows up as a mismatch.
TEST(HandComputed, OneLayerTwoTokens) {
  GPTConfig c;
  c.vocab_size = 2, c.block_size = 2, c.n_layer = 1, c.n_head = 1, c.n_embd = 2;
  c.bias = true, c.tied = true, c.dropout = 0;
  GPT m(c);
  m->to(torch::kFloat64);

  const M2 wte{V2{1.0, -0.5}, V2{0.25, 0.75}}, wpe{V2{0.1, 0.2}, V2{-0.3, 0.4}};
  const V2 g1{1.5, 0.5}, b1{0.1, -0.2}, g2{0.8, 1.2}, b2{0.3, -0.1}, gf{1.1, 0.9}, bf{-0.1, 0.2};
  const M2 Wq{V2{0.7, -0.2}, V2{0.3, 0.9}}, Wk{V2{-0.4, 0.6}, V2{0.8, 0.1}}, Wv{V2{0.5, 0.5}, V2{-1.0, 0.2}};
  const V2 bq{0.05, -0.05}, bk{0.1, 0.2}, bv{-0.1, 0.3};
  const M2 Wo{V2{0.9, -0.3}, V2{0.2, 1.1}};
  const V2 bo{0.01, 0.02};
  // MLP: only hidden unit 0 is live: hidden0 = gelu(fc . x + fc_b); out = hidden0 * proj_col + proj_b.
  const V2 fc{1.0, -0.5}, proj_col{0.6, -0.4}, proj_b{0.05, -0.05};
  const double fc_b = 0.2;

  {
    torch::NoGradGuard no_grad;
    auto P = m->named_parameters();
    auto set = [&](const std::string& name, std::vector<double> v) {
      auto& p = P[name];
      ASSERT_EQ((std::int64_t)v.size(), p.numel()) << name;
      p.copy_(torch::tensor(v, torch::kFloat64).view(p.sizes()));
    };
    auto zeros = [](int n) { return std::vector<double>(n, 0.0); };
    set("wte.weight", {wte[0][0], wte[0][1], wte[1][0], wte[1][1]});
    set("wpe.weight", {wpe[0][0], wpe[0][1], wpe[1][0], wpe[1][1]});
    set("h.0.ln_1.weight", {g1[0], g1[1]});
    set("h.0.ln_1.bias", {b1[0], b1[1]});
    set("h.0.attn.c_attn.weight", {Wq[0][0], Wq[0][1], Wq[1][0], Wq[1][1], Wk[0][0], Wk[0][1], Wk[1][0], Wk[1][1],
                                   Wv[0][0], Wv[0][1], Wv[1][0], Wv[1][1]});
    set("h.0.attn.c_attn.bias", {bq[0], bq[1], bk[0], bk[1], bv[0], bv[1]});
    set("h.0.attn.c_proj.weight", {Wo[0][0], Wo[0][1], Wo[1][0], Wo[1][1]});
    set("h.0.attn.c_proj.bias", {bo[0], bo[1]});
    set("h.0.ln_2.weight", {g2[0], g2[1]});
    set("h.0.ln_2.bias", {b2[0], b2[1]});
    auto fcw = zeros(16), fcb = zeros(8), pw = zeros(16);
    fcw[0] = fc[0], fcw[1] = fc[1], fcb[0] = fc_b;
    pw[0] = proj_col[0], pw[8] = proj_col[1];  // c_proj.weight is [2, 8]: column 0
    set("h.0.mlp.c_fc.weight", fcw);
    set("h.0.mlp.c_fc.bias", fcb);
    set("h.0.mlp.c_proj.weight", pw);
    set("h.0.mlp.c_proj.bias", {proj_b[0], proj_b[1]});
    set("ln_f.weight", {gf[0], gf[1]});
    set("ln_f.bias", {bf[0], bf[1]});
  }

  // Tokens [1, 0].
  const V2 x0 = add(wte[1], wpe[0]), x1 = add(wte[0], wpe[1]);
  const V2 u0 = layer_norm(x0, g1, b1), u1 = layer_norm(x1, g1, b1);
  const V2 q1 = affine(Wq, u1, bq);
  const V2 k0 = affine(Wk, u0, bk), k1 = affine(Wk, u1, bk);
  const V2 v0 = affine(Wv, u0, bv), v1 = affine(Wv, u1, bv);
  // Token 0 may only attend to itself; token 1 to both, softmax of scores / sqrt(head_dim).
  const V2 y0 = v0;
  const double s0 = dot(q1, k0) / std::sqrt(2.0), s1 = dot(q1, k1) / std::sqrt(2.0);
  const double p0 = std::exp(s0) / (std::exp(s0) + std::exp(s1)), p1 = 1 - p0;
  const V2 y1 = add(scale(v0, p0), scale(v1, p1));
  const V2 h0 = add(x0, affine(Wo, y0, bo)), h1 = add(x1, affine(Wo, y1, bo));
  auto mlp = [&](V2 h) { return add(scale(proj_col, gelu_tanh(dot(fc, layer_norm(h, g2, b2)) + fc_b)), proj_b); };
  const V2 o0 = add(h0, mlp(h0)), o1 = add(h1, mlp(h1));
  const V2 f0 = layer_norm(o0, gf, bf), f1 = layer_norm(o1, gf, bf);
  const double expected[2][2] = {{dot(f0, wte[0]), dot(f0, wte[1])}, {dot(f1, wte[0]), dot(f1, wte[1])}};

  torch::NoGradGuard no_grad;
  auto logits = m->forward(torch::tensor({1, 0}, torch::kLong).view({1, 2}));
  ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{1, 2, 2}));
  for (int t = 0; t < 2; ++t)
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(logits[0][t][j].item<double>(), expected[t][j], 1e-12) << "position " << t << ", token " << j;
}

// GELU's tanh form and erf form differ by up to ~5e-4; GPT-2 uses tanh.
TEST(HandComputed, MlpUsesTanhGelu) {
  GPTConfig c;
  c.n_embd = 1, c.n_head = 1, c.bias = false;
  MLP mlp(c);
  mlp->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  mlp->c_fc->weight.copy_(torch::tensor({1.0, 2.0, -1.0, 0.5}, torch::kFloat64).view({4, 1}));
  mlp->c_proj->weight.copy_(torch::tensor({1.0, 10.0, 100.0, 1000.0}, torch::kFloat64).view({1, 4}));
  const double x = 0.9;
  const double expected = gelu_tanh(x) + 10 * gelu_tanh(2 * x) + 100 * gelu_tanh(-x) + 1000 * gelu_tanh(0.5 * x);
  auto y = mlp->forward(torch::full({1, 1, 1}, x, torch::kFloat64));
  EXPECT_NEAR(y.item<double>(), expected, 1e-12);
}

// ---- incremental decoding and causality ------------------------------------------------------

GPTConfig decode_config() {
  GPTConfig c = tiny_config(/*tied=*/false, /*bias=*/true, /*dropout=*/0.1);  // eval() turns it off
  c.vocab_size = 17, c.block_size = 16, c.n_head = 4, c.n_embd = 16;
  return c;
}

TEST(KVCache, IncrementalDecodingMatchesFullForward) {
  const GPTConfig c = decode_config();
  GPT m = make_model(c, 7);
  m->eval();
  torch::NoGradGuard no_grad;
  const auto idx = random_tokens(2, 12, c.vocab_size, 3);
  const auto full = m->forward(idx);
  const std::vector<std::vector<std::int64_t>> schedules = {
      {5, 1, 1, 1, 1, 1, 1, 1},                 // prompt, then one token at a time
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // from the first token on
      {3, 4, 5},                                // chunks
      {12}};                                    // everything at once through the cache
  for (const auto& schedule : schedules) {
    KVCache cache;
    std::vector<torch::Tensor> parts;
    std::int64_t pos = 0;
    for (auto n : schedule) {
      parts.push_back(m->forward(idx.slice(1, pos, pos + n), &cache));
      pos += n;
      EXPECT_EQ(cache.length(), pos);
    }
    const auto incremental = torch::cat(parts, 1);
    ASSERT_EQ(incremental.sizes(), full.sizes());
    EXPECT_LT(max_abs_diff(incremental, full), 1e-12) << "schedule starting with " << schedule[0];
  }
}

TEST(KVCache, RejectsGoingPastBlockSize) {
  const GPTConfig c = decode_config();
  GPT m = make_model(c, 7);
  m->eval();
  torch::NoGradGuard no_grad;
  KVCache cache;
  m->forward(random_tokens(1, 14, c.vocab_size, 4), &cache);
  EXPECT_THROW(m->forward(random_tokens(1, 3, c.vocab_size, 5), &cache), c10::Error);
  cache.clear();
  EXPECT_EQ(cache.length(), 0);
}

// The attention mask is built once and reused: it must follow the model to another dtype, and a
// mask first built in inference mode (generation) must not break training afterwards.
TEST(KVCache, CachedMaskFollowsDtypeAndInferenceMode) {
  const GPTConfig c = decode_config();
  GPT m = make_model(c, 5, 0.3, torch::kFloat32);
  const auto idx = random_tokens(2, 12, c.vocab_size, 3);
  {
    c10::InferenceMode inference;
    m->forward(idx);
  }
  m->zero_grad();
  m->loss(idx, idx).backward();  // uses the mask built above
  EXPECT_TRUE(m->wte->weight.grad().defined());

  m->eval();  // decode_config has dropout
  torch::NoGradGuard no_grad;
  const auto f32 = m->forward(idx);
  m->to(torch::kFloat64);
  const auto f64 = m->forward(idx);
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_LT(max_abs_diff(f64.to(torch::kFloat32), f32), 1e-4);
}

// Changing token t must not change the logits at positions < t (in training mode too, which is
// the path the loss uses), must change those at t, and must not touch other sequences in the batch.
TEST(Causality, FutureTokensDoNotAffectEarlierLogits) {
  const GPTConfig c = tiny_config(/*tied=*/true, /*bias=*/true);
  GPT m = make_model(c, 11);
  torch::NoGradGuard no_grad;
  const auto idx = random_tokens(2, c.block_size, c.vocab_size, 6);
  const auto base = m->forward(idx);
  for (std::int64_t t = 0; t < c.block_size; ++t) {
    auto changed = idx.clone();
    changed[0][t] = (idx[0][t].item<std::int64_t>() + 1) % c.vocab_size;
    const auto out = m->forward(changed);
    if (t > 0) EXPECT_LT(max_abs_diff(out[0].slice(0, 0, t), base[0].slice(0, 0, t)), 1e-12) << "t=" << t;
    EXPECT_GT(max_abs_diff(out[0][t], base[0][t]), 1e-6) << "t=" << t;
    EXPECT_LT(max_abs_diff(out[1], base[1]), 1e-12) << "t=" << t;
  }
}

// forward_embeddings and hidden_states are the same computation entered or left elsewhere: the
// embedding attacks and HCMA's statistics rely on that.
TEST(EntryPoints, EmbeddingsInAndHiddenStatesOutAgreeWithForward) {
  const GPTConfig c = tiny_config(/*tied=*/false, /*bias=*/true);
  GPT m = make_model(c, 12);
  torch::NoGradGuard no_grad;
  const auto idx = random_tokens(2, c.block_size, c.vocab_size, 7);
  const auto logits = m->forward(idx);
  EXPECT_TRUE(m->forward_embeddings(m->wte(idx)).equal(logits));
  const auto pos = torch::arange(c.block_size, torch::kLong);
  EXPECT_TRUE(m->hidden_states(idx, 0).equal(m->wte(idx) + m->wpe(pos)));
  const auto last = m->hidden_states(idx, int(c.n_layer));
  EXPECT_LT(max_abs_diff(torch::nn::functional::linear(m->ln_f(last), m->output_weight()), logits), 1e-12);
  // One block applied by hand to the embeddings gives hidden_states(idx, 1).
  torch::Tensor dep;
  EXPECT_TRUE(m->blocks[0]->forward(m->hidden_states(idx, 0), dep).equal(m->hidden_states(idx, 1)));
  EXPECT_THROW(m->hidden_states(idx, int(c.n_layer) + 1), c10::Error);
}

// ---- parameter bookkeeping -------------------------------------------------------------------

std::vector<GPTConfig> counting_configs() {
  std::vector<GPTConfig> out;
  for (bool tied : {true, false})
    for (bool bias : {true, false}) {
      GPTConfig c = tiny_config(tied, bias);
      c.vocab_size = 50, c.block_size = 10, c.n_layer = 3, c.n_head = 3, c.n_embd = 12;
      out.push_back(c);
    }
  return out;
}

TEST(Params, CountMatchesConfig) {
  for (const auto& c : counting_configs()) {
    GPT m(c);
    std::int64_t trainable = 0;
    for (auto& p : m->parameters())
      if (p.requires_grad()) trainable += p.numel();
    EXPECT_EQ(trainable, c.num_params()) << c.to_json().dump();
    EXPECT_EQ(m->num_params(), c.num_params()) << c.to_json().dump();
  }
  // GPT-2 small (124M) as published: 124,439,808 parameters with tied output.
  GPTConfig gpt2;
  gpt2.vocab_size = 50257, gpt2.block_size = 1024, gpt2.n_layer = 12, gpt2.n_head = 12, gpt2.n_embd = 768;
  EXPECT_EQ(gpt2.num_params(), 124439808);
}

TEST(Params, DecayGroupsAreDisjointAndCoverTrainableParameters) {
  for (const auto& c : counting_configs()) {
    GPT m(c);
    std::map<const void*, std::string> name_of;
    std::set<const void*> trainable;
    for (auto& item : m->named_parameters()) {
      name_of[item.value().unsafeGetTensorImpl()] = item.key();
      if (item.value().requires_grad()) trainable.insert(item.value().unsafeGetTensorImpl());
    }
    std::set<const void*> decay, no_decay;
    for (auto& p : m->decay_params()) {
      EXPECT_TRUE(decay.insert(p.unsafeGetTensorImpl()).second) << "duplicate " << name_of[p.unsafeGetTensorImpl()];
      EXPECT_GE(p.dim(), 2) << name_of[p.unsafeGetTensorImpl()];
    }
    for (auto& p : m->no_decay_params()) {
      EXPECT_TRUE(no_decay.insert(p.unsafeGetTensorImpl()).second) << "duplicate " << name_of[p.unsafeGetTensorImpl()];
      EXPECT_EQ(p.dim(), 1) << name_of[p.unsafeGetTensorImpl()];
    }
    std::set<const void*> both, all;
    std::set_intersection(decay.begin(), decay.end(), no_decay.begin(), no_decay.end(), std::inserter(both, both.end()));
    EXPECT_TRUE(both.empty());
    all = decay;
    all.insert(no_decay.begin(), no_decay.end());
    EXPECT_EQ(all, trainable);
    // Embeddings and Linear matrices decay: wte, wpe, 4 per layer, lm_head when untied.
    EXPECT_EQ((std::int64_t)decay.size(), 2 + 4 * c.n_layer + (c.tied ? 0 : 1));
    std::set<std::string> decay_names;
    for (auto* p : decay) decay_names.insert(name_of[p]);
    EXPECT_TRUE(decay_names.count("wte.weight"));
    EXPECT_TRUE(decay_names.count("h.0.attn.c_attn.weight"));
    EXPECT_FALSE(decay_names.count("ln_f.weight"));
  }
}

}  // namespace

// Paired seeds (issue 14): a plain model and a CSTDE model built at one seed share every tensor
// they both have bit for bit, and leave torch's generator in the same state, so the variants of
// an experiment differ only by what the method adds.
TEST(Init, VariantsOfOneSeedShareEveryCommonTensor) {
  auto plain_cfg = structlm::model::testing::tiny_config(/*tied=*/true, /*bias=*/true);
  auto cstde_cfg = plain_cfg;
  cstde_cfg.cstde.attention = true;
  cstde_cfg.cstde.rank = 4;
  auto nocarry_cfg = cstde_cfg;
  nocarry_cfg.cstde.carry = false;

  torch::manual_seed(11);
  auto plain = structlm::zoo::make_gpt(plain_cfg);
  const auto next_plain = torch::rand({4});
  for (const auto& cfg : std::vector<structlm::model::GPTConfig>{cstde_cfg, nocarry_cfg}) {
    torch::manual_seed(11);
    auto cstde = structlm::zoo::make_gpt(cfg);
    EXPECT_TRUE(torch::equal(torch::rand({4}), next_plain)) << "the generator moved on differently";
    auto theirs = cstde->named_parameters();
    int shared = 0, own = 0;
    for (const auto& item : theirs) {
      const auto* mine = plain->named_parameters().find(item.key());
      if (!mine) {
        ++own;
        continue;
      }
      ++shared;
      EXPECT_TRUE(torch::equal(*mine, item.value())) << item.key();
    }
    EXPECT_EQ(shared, (int)plain->named_parameters().size());
    EXPECT_GT(own, 0);
    // CSTDE's own matrices are drawn, not left at torch's construction values.
    const torch::Tensor u = cstde->named_parameters()["h.0.dep.u.weight"];
    EXPECT_NEAR(u.std().item().toDouble(), 0.02, 0.01);
  }
  // A different seed gives different weights (the test can fail).
  torch::manual_seed(12);
  auto other = structlm::zoo::make_gpt(plain_cfg);
  EXPECT_FALSE(torch::equal(other->wte->weight, plain->wte->weight));
}
