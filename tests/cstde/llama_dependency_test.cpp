// CSTDE's dependency-weighted attention on the Llama family (issue 16): the forward against the
// equations written out here in plain torch (rotary, grouped-query heads, carried D, the
// beta-weighted log-prior), finite differences of every parameter in float64, the plain Llama's
// logits bit for bit at beta = 0, seeds paired with the plain model, KV-cache decoding, the
// prior-use measures, checkpoints and the refusal to export what HF and GGUF cannot hold.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cstde/dependency.h"
#include "cstde/prior_use.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/llama.h"
#include "model/model_test_util.h"
#include "model/precision.h"
#include "support/temp_dir.h"
#include "zoo/zoo.h"

using namespace structlm;
using model::LlamaForCausalLM;
using model::LlamaForCausalLMImpl;
using model::ModelConfig;
using structlm::model::testing::check_gradients;
using structlm::model::testing::random_tokens;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

// 2 layers, 4 query heads on 2 key/value heads (grouped-query), head size 4, untied.
ModelConfig plain_llama() {
  ModelConfig c;
  c.arch = "llama";
  c.vocab_size = 13;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd = 16;
  c.tied = false;
  c.dropout = 0;
  c.bias = false;
  c.llama.n_kv_head = 2;
  c.llama.intermediate_size = 24;
  return c;
}

ModelConfig cstde_llama(bool carry = true) {
  ModelConfig c = plain_llama();
  c.cstde.attention = true;
  c.cstde.carry = carry;
  c.cstde.rank = 3;
  c.cstde.buckets = 4;  // exact for distances 0, 1; log-spaced 2..5; 6+ share bucket 3
  c.cstde.max_distance = 6;
  return c;
}

LlamaForCausalLM make(const ModelConfig& c, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto net = zoo::make_model(c, "cfg.json").llama;
  EXPECT_TRUE(net);
  return net;
}

// Every parameter a useful size, so no term hides: matrices N(0, 0.3), RMSNorm gains 1 + N(0, 0.2),
// every other vector (gates beta, carry logits, the distance bias, biases) N(0, 0.5).
void randomize(LlamaForCausalLMImpl& m) {
  torch::NoGradGuard no_grad;
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    if (p.dim() >= 2)
      p.normal_(0.0, 0.3);
    else if (item.key().find("norm.weight") != std::string::npos)
      p.normal_(1.0, 0.2);
    else
      p.normal_(0.0, 0.5);
  }
}

// The model's logits and last layer's D, from its tensors by the equations (model/llama.h,
// cstde/dependency.h), one head and one position pair at a time where that is the plainest.
std::pair<torch::Tensor, torch::Tensor> by_hand(LlamaForCausalLMImpl& m, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  auto P = m.named_parameters();
  auto W = [&](const std::string& n) { return P[n]; };
  const auto& c = m.config();
  const auto& cs = m.cstde_config();
  const std::int64_t B = ids.size(0), T = ids.size(1), H = c.num_attention_heads, KV = c.num_key_value_heads,
                     d = c.head_dim;
  const double inf = std::numeric_limits<double>::infinity();
  auto rms = [&](const torch::Tensor& x, const torch::Tensor& w) {
    return x / torch::sqrt(x.pow(2).mean(-1, true) + c.rms_norm_eps) * w;
  };
  // Rotary: position t turns the pair (i, i + d/2) by t * theta^(-2i/d).
  auto angle = torch::empty({T, d / 2}, torch::kFloat64);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t i = 0; i < d / 2; ++i) angle[t][i] = double(t) * std::pow(c.rope_theta, -2.0 * double(i) / double(d));
  const auto cos = angle.cos(), sin = angle.sin();
  auto rot = [&](const torch::Tensor& x) {
    auto a = x.slice(-1, 0, d / 2), b = x.slice(-1, d / 2);
    return torch::cat({a * cos - b * sin, b * cos + a * sin}, -1);
  };
  torch::Tensor x = W("model.embed_tokens.weight").index({ids}), D;
  for (std::int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    const auto n = rms(x, W(pre + "input_layernorm.weight"));
    // D: s_ij = u_i . v_j / sqrt(r) + b(bucket(i - j)), j <= i; softmax over j; carried.
    const auto u = n.matmul(W(pre + "dep.u.weight").t()), v = n.matmul(W(pre + "dep.v.weight").t());
    const auto bias = W(pre + "dep.rel_bias");
    auto s = torch::full({B, T, T}, -inf, torch::kFloat64);
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t i = 0; i < T; ++i)
        for (std::int64_t j = 0; j <= i; ++j)
          s[b][i][j] = (u[b][i] * v[b][j]).sum() / std::sqrt(double(cs.rank)) +
                       bias[cstde::distance_bucket(i - j, cs.buckets, cs.max_distance)];
    const auto fresh = torch::softmax(s, -1);
    if (l == 0 || !cs.carry) {
      D = fresh;
    } else {
      const auto g = torch::sigmoid(W(pre + "dep.carry_logit"));
      D = (1 - g) * D + g * fresh;
    }
    // Attention: query head h reads key/value head h / (H / KV), logits + beta_h log(D + eps).
    const auto q = rot(n.matmul(W(pre + "self_attn.q_proj.weight").t()).view({B, T, H, d}).transpose(1, 2));
    const auto k = rot(n.matmul(W(pre + "self_attn.k_proj.weight").t()).view({B, T, KV, d}).transpose(1, 2));
    const auto vv = n.matmul(W(pre + "self_attn.v_proj.weight").t()).view({B, T, KV, d}).transpose(1, 2);
    const auto beta = W(pre + "self_attn.dep_beta");
    const auto future = torch::ones({T, T}, torch::kBool).triu(1);
    std::vector<torch::Tensor> heads;
    for (std::int64_t h = 0; h < H; ++h) {
      const auto g = h / (H / KV);
      auto a = q.select(1, h).matmul(k.select(1, g).transpose(1, 2)) / std::sqrt(double(d)) +
               beta[h] * torch::log(D + cs.epsilon);
      a = a.masked_fill(future, -inf);
      heads.push_back(torch::softmax(a, -1).matmul(vv.select(1, g)));  // [B, T, d]
    }
    x = x + torch::cat(heads, -1).matmul(W(pre + "self_attn.o_proj.weight").t());
    const auto n2 = rms(x, W(pre + "post_attention_layernorm.weight"));
    const auto gate = n2.matmul(W(pre + "mlp.gate_proj.weight").t()), up = n2.matmul(W(pre + "mlp.up_proj.weight").t());
    x = x + (gate * torch::sigmoid(gate) * up).matmul(W(pre + "mlp.down_proj.weight").t());
  }
  return {rms(x, W("model.norm.weight")).matmul(W("lm_head.weight").t()), D};
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(LlamaCstde, ForwardIsTheEquationsWrittenOut) {
  for (bool carry : {true, false}) {
    auto m = make(cstde_llama(carry), 3);
    m->to(torch::kFloat64);
    randomize(*m);
    const auto ids = random_tokens(2, 8, 13, 4);
    const auto [want, want_D] = by_hand(*m, ids);
    torch::NoGradGuard no_grad;
    model::ForwardTrace trace;
    const auto got = m->forward(ids, nullptr, &trace);
    const double err = max_abs_diff(got, want) / want.abs().max().item<double>();
    std::printf("[ measured ] llama cstde carry=%d: forward vs by hand, relative %.2e\n", int(carry), err);
    EXPECT_LT(err, 1e-12) << carry;
    ASSERT_EQ(trace.dependency.size(), 2u);
    EXPECT_LT(max_abs_diff(trace.dependency.back(), want_D), 1e-14);
    ASSERT_EQ(trace.attention.size(), 2u);
    EXPECT_EQ(trace.attention[0].sizes(), (std::vector<std::int64_t>{2, 8, 8}));
    // The check can fail: the prior's weights matter at this size.
    m->model->blocks[1]->self_attn->dep_beta.data().add_(0.5);
    EXPECT_GT(max_abs_diff(m->forward(ids), want), 1e-3);
  }
}

TEST(LlamaCstde, FiniteDifferencesMatchAutogradForEveryParameter) {
  for (bool carry : {true, false}) {
    auto m = make(cstde_llama(carry), 5);
    m->to(torch::kFloat64);
    randomize(*m);
    const auto ids = random_tokens(2, 8, 13, 6), targets = random_tokens(2, 8, 13, 7);
    const auto [tensors, worst] = check_gradients(m, ids, targets, /*allow_frozen=*/false);
    // Plain: embed, lm_head, final norm, and per layer 2 norms + 4 attention + 3 MLP matrices.
    // CSTDE adds per layer u, v, rel_bias, dep_beta, and a carry logit in every layer but the first.
    EXPECT_EQ(tensors, 3 + 2 * 9 + 2 * 4 + (carry ? 1 : 0));
    for (const char* name : {"model.layers.1.self_attn.dep_beta", "model.layers.1.dep.u.weight",
                             "model.layers.0.dep.v.weight", "model.layers.1.dep.rel_bias"})
      EXPECT_GT(m->named_parameters()[name].grad().abs().max().item<double>(), 1e-6) << name;
    std::printf("[ gradcheck ] llama cstde carry=%d tensors=%d worst relative error %.2e\n", int(carry), tensors, worst);
  }
}

// beta starts at 0: the CSTDE Llama of a seed computes the plain Llama of that seed, bit for bit in
// float64 (the shared tensors are the same, and beta * log(D + eps) adds an exact 0).
TEST(LlamaCstde, AtBetaZeroTheLogitsAreThePlainLlamasOfTheSameSeed) {
  auto plain = make(plain_llama(), 21), dep = make(cstde_llama(), 21);
  const auto ids = random_tokens(3, 8, 13, 22);
  torch::NoGradGuard no_grad;
  // float32: the fused log-prior softmax (its own exponential) against torch's softmax.
  const double f32 = max_abs_diff(plain->forward(ids), dep->forward(ids));
  std::printf("[ measured ] llama cstde at beta 0, float32: largest logit difference %.2e\n", f32);
  EXPECT_LT(f32, 1e-5);
  plain->to(torch::kFloat64);
  dep->to(torch::kFloat64);
  EXPECT_TRUE(torch::equal(plain->forward(ids), dep->forward(ids)));
  // And the path is live: a nonzero beta moves them apart.
  for (auto& b : dep->model->blocks) b->self_attn->dep_beta.fill_(0.5);
  EXPECT_GT(max_abs_diff(plain->forward(ids), dep->forward(ids)), 1e-3);
}

// As Init.VariantsOfOneSeedShareEveryCommonTensor for the GPT.
TEST(LlamaCstde, VariantsOfOneSeedShareEveryCommonTensor) {
  ModelConfig nocarry = cstde_llama(false), distance = cstde_llama(), started = cstde_llama();
  distance.cstde.scorer = "distance";
  distance.cstde.prior_trainable = false;
  started.cstde.beta_init = 0.25;
  torch::manual_seed(11);
  auto plain = zoo::make_model(plain_llama(), "cfg").llama;
  const auto next_plain = torch::rand({4});
  for (const auto& cfg : {cstde_llama(), nocarry, distance, started}) {
    torch::manual_seed(11);
    auto dep = zoo::make_model(cfg, "cfg").llama;
    EXPECT_TRUE(torch::equal(torch::rand({4}), next_plain)) << "the generator moved on differently";
    int shared = 0, own = 0;
    for (const auto& item : dep->named_parameters()) {
      const auto* mine = plain->named_parameters().find(item.key());
      if (!mine) {
        ++own;
        EXPECT_TRUE(model::is_key_prior_parameter(item.key())) << item.key();
        continue;
      }
      ++shared;
      EXPECT_TRUE(torch::equal(*mine, item.value())) << item.key();
    }
    EXPECT_EQ(shared, (int)plain->named_parameters().size());
    EXPECT_GT(own, 0);
    auto params = dep->named_parameters();
    if (cfg.cstde.scorer == "bilinear")  // drawn, not left at torch's construction values
      EXPECT_NEAR(params["model.layers.0.dep.u.weight"].std().item<double>(), 0.02, 0.01);
    EXPECT_TRUE(torch::equal(params["model.layers.1.self_attn.dep_beta"], torch::full({4}, cfg.cstde.beta_init)));
    const auto prior = cstde::log_distance_prior(4, 6, /*block_size=*/8);
    EXPECT_TRUE(torch::allclose(params["model.layers.0.dep.rel_bias"], torch::tensor(prior, torch::kFloat64).to(torch::kFloat)));
    EXPECT_EQ(params["model.layers.0.dep.rel_bias"].requires_grad(), cfg.cstde.prior_trainable);
    EXPECT_EQ(params.contains("model.layers.1.dep.carry_logit"), cfg.cstde.carry);
    EXPECT_FALSE(params.contains("model.layers.0.dep.carry_logit"));
    // The parameter count of the config is the model's.
    EXPECT_EQ(dep->num_params(), cfg.num_params());
  }
  // A different seed gives different weights (the test can fail).
  torch::manual_seed(12);
  auto other = zoo::make_model(plain_llama(), "cfg").llama;
  EXPECT_FALSE(torch::equal(other->model->embed_tokens->weight, plain->model->embed_tokens->weight));
}

TEST(LlamaCstde, IncrementalDecodingEqualsTheFullForward) {
  auto m = make(cstde_llama(), 8);
  m->to(torch::kFloat64);
  randomize(*m);
  const auto ids = random_tokens(2, 8, 13, 9);
  torch::NoGradGuard no_grad;
  const auto full = m->forward(ids);
  model::KVCache cache;
  EXPECT_LT(max_abs_diff(m->forward(ids.slice(1, 0, 5), &cache), full.slice(1, 0, 5)), 1e-12);
  for (std::int64_t t = 5; t < 8; ++t)
    EXPECT_LT(max_abs_diff(m->forward(ids.slice(1, t, t + 1), &cache), full.slice(1, t, t + 1)), 1e-12) << t;
  EXPECT_EQ(cache.dep_v.size(), 2u);
}

TEST(LlamaCstde, PriorUseIsReadOffTheModel) {
  auto m = make(cstde_llama(), 13);
  m->to(torch::kFloat64);
  randomize(*m);
  const auto ids = random_tokens(2, 8, 13, 14);
  double beta_abs = 0;
  for (auto& b : m->model->blocks) beta_abs += b->self_attn->dep_beta.abs().sum().item<double>();
  const double gamma = torch::sigmoid(m->named_parameters()["model.layers.1.dep.carry_logit"]).item<double>();
  const auto D = by_hand(*m, ids).second;
  const double entropy = (-torch::xlogy(D, D).sum(-1)).mean().item<double>();
  const auto use = cstde::prior_use(*m, ids);
  ASSERT_TRUE(use.prior_weight && use.carry_gate && use.d_entropy);
  EXPECT_NEAR(*use.prior_weight, beta_abs / 8, 1e-12);
  EXPECT_NEAR(*use.carry_gate, gamma, 1e-12);
  EXPECT_NEAR(*use.d_entropy, entropy, 1e-10);
  // A plain Llama has none of them.
  auto plain = make(plain_llama(), 13);
  const auto none = cstde::prior_use(*plain, ids);
  EXPECT_FALSE(none.prior_weight || none.carry_gate || none.d_entropy);
}

// Under bf16 autocast (the trainer's bf16): the fused kernels take bf16 scores, and the loss and
// every CSTDE gradient stay finite and near fp32's.
TEST(LlamaCstde, Bf16AutocastTrainsTheWholePath) {
  ModelConfig c = cstde_llama();
  c.cstde.beta_init = 0.5;
  auto m = make(c, 15);
  const auto ids = random_tokens(2, 8, 13, 16), targets = random_tokens(2, 8, 13, 17);
  const double fp32 = m->loss(ids, targets).item<double>();
  torch::Tensor loss;
  {
    model::AutocastGuard autocast(model::Precision::bf16, torch::kCPU);
    loss = m->loss(ids, targets);
  }
  loss.backward();
  std::printf("[ measured ] llama cstde loss fp32 %.5f, bf16 autocast %.5f\n", fp32, loss.item<double>());
  EXPECT_NEAR(loss.item<double>(), fp32, 2e-2);
  for (auto& item : m->named_parameters()) {
    if (!model::is_key_prior_parameter(item.key())) continue;
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_TRUE(torch::isfinite(item.value().grad()).all().item<bool>()) << item.key();
    EXPECT_GT(item.value().grad().abs().max().item<double>(), 0.0) << item.key();
  }
}

TEST(LlamaCstde, CheckpointsCarryTheSectionAndExportIsRefusedByName) {
  TempDir tmp;
  auto m = make(cstde_llama(), 17);
  randomize(*m);
  const std::string path = tmp / "m.safetensors";
  model::save_checkpoint(path, m, json::object());
  const auto ck = model::read_any_checkpoint(path);
  EXPECT_EQ(ck.meta["cstde"], cstde_llama().cstde.to_json());
  auto loaded = zoo::load_any_model(path);
  ASSERT_EQ(loaded.arch, "llama");
  EXPECT_EQ(loaded.llama->cstde_config().to_json(), m->cstde_config().to_json());
  for (auto& item : m->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), loaded.llama->named_parameters()[item.key()])) << item.key();
  const auto ids = random_tokens(1, 8, 13, 18);
  torch::NoGradGuard no_grad;
  m->eval();
  EXPECT_TRUE(torch::equal(m->forward(ids), loaded.llama->forward(ids)));
  // make_like (HCMA's rebuild) keeps the scorers.
  auto like = zoo::make_like(*m, /*untie=*/false);
  EXPECT_EQ(like.llama->named_parameters().size(), m->named_parameters().size());

  // HF and GGUF have no place for the scorers: refused, naming the tensor and the format.
  const std::string msg = error_of([&] { model::check_plain_llama(*m, "out", "GGUF"); });
  for (const char* part : {"out", "model.layers.0.", "GGUF", "cstde.attention"})
    EXPECT_NE(msg.find(part), std::string::npos) << part << " in: " << msg;
  auto plain = make(plain_llama(), 17);
  EXPECT_NO_THROW(model::check_plain_llama(*plain, "out", "Hugging Face"));
  // A plain Llama's checkpoint has no cstde entry: the file is as before.
  model::save_checkpoint(tmp / "p.safetensors", plain, json::object());
  EXPECT_FALSE(model::read_any_checkpoint(tmp / "p.safetensors").meta.contains("cstde"));
}

TEST(LlamaCstde, ParametersAreCstdesByName) {
  auto m = make(cstde_llama(), 19);
  int own = 0;
  for (auto& item : m->named_parameters()) own += cstde::is_cstde_parameter(item.key());
  EXPECT_EQ(own, 2 * 4 + 1);  // u, v, rel_bias, dep_beta per layer; one carry logit
}
