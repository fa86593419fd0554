// Block-causal attention (model/attention_blocks.h): split by query blocks, the attention and its
// gradients are the unsplit attention's, for the plain GPT and CSTDE's dependency attention, with
// T a multiple of the block, not one, and smaller than one; a trace and the KV cache still work.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/attention_blocks.h"
#include "model/precision.h"
#include "model_test_util.h"

using namespace structlm::model;
using structlm::model::testing::make_model;
using structlm::model::testing::max_abs_diff;
using structlm::model::testing::random_tokens;

namespace {

// Sets the query block for one scope, then gives the process setting back to the environment.
struct BlockSetting {
  explicit BlockSetting(std::int64_t rows) { set_attention_block(rows); }
  ~BlockSetting() { set_attention_block(-1); }
};

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).norm().item<double>() /
         std::max(b.to(torch::kDouble).norm().item<double>(), 1e-30);
}

// The unsplit attention: softmax(mask + scale q k^T) v over the whole [T, T] map.
torch::Tensor unsplit(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask,
                      double scale) {
  const auto T = q.size(1);
  auto att = torch::baddbmm(mask.slice(0, 0, T).slice(1, 0, T), q, k.transpose(1, 2), 1.0, scale);
  return torch::bmm(torch::softmax(att, -1), v);
}

torch::Tensor causal(std::int64_t n, torch::Dtype dtype) {
  return torch::full({n, n}, -std::numeric_limits<double>::infinity(), torch::TensorOptions().dtype(dtype)).triu(1);
}

struct Result {
  torch::Tensor y, dq, dk, dv;
};

Result run(bool split, const torch::Tensor& q0, const torch::Tensor& k0, const torch::Tensor& v0, const torch::Tensor& gy,
           std::int64_t block, bool autocast) {
  auto q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_(), v = v0.clone().requires_grad_();
  const double scale = 1.0 / std::sqrt(double(q.size(2)));
  torch::Tensor y;
  {
    AutocastGuard g(autocast ? Precision::bf16 : Precision::fp32, torch::kCPU);
    const auto mask = causal(q.size(1) + 3, autocast ? torch::kBFloat16 : q.scalar_type());
    y = split ? block_causal_attention(q, k, v, mask, scale, block,
                                       [](const torch::Tensor& att, std::int64_t, std::int64_t) { return torch::softmax(att, -1); })
              : unsplit(q, k, v, mask, scale);
  }
  y.backward(gy.to(y.scalar_type()));
  return {y.detach(), q.grad(), k.grad(), v.grad()};
}

}  // namespace

TEST(AttentionBlocks, FunctionEqualsTheUnsplitAttentionAndGradients) {
  torch::manual_seed(11);
  for (std::int64_t T : {3, 8, 11, 1}) {
    for (std::int64_t block : {1, 3, 4, 16}) {
      const auto q = torch::randn({6, T, 8}), k = torch::randn({6, T, 8}), v = torch::randn({6, T, 8});
      const auto gy = torch::randn({6, T, 8});
      // fp32: equal up to the order of floating-point sums.
      const auto a = run(true, q, k, v, gy, block, false), b = run(false, q, k, v, gy, block, false);
      EXPECT_LT(max_abs_diff(a.y, b.y), 1e-5) << "T " << T << " block " << block;
      EXPECT_LT(max_abs_diff(a.dq, b.dq), 1e-5) << "T " << T << " block " << block;
      EXPECT_LT(max_abs_diff(a.dk, b.dk), 1e-5) << "T " << T << " block " << block;
      EXPECT_LT(max_abs_diff(a.dv, b.dv), 1e-5) << "T " << T << " block " << block;
      // bf16 inputs, and fp32 inputs under bf16 autocast (the gradients come back in fp32): within
      // a few bf16 roundings (2^-8 each) of the unsplit bf16 attention, which rounds the same
      // products once less where a key's gradient sums over blocks.
      for (bool autocast : {false, true}) {
        const auto in = [&](const torch::Tensor& t) { return autocast ? t : t.to(torch::kBFloat16); };
        const auto c = run(true, in(q), in(k), in(v), gy, block, autocast);
        const auto d = run(false, in(q), in(k), in(v), gy, block, autocast);
        EXPECT_EQ(c.y.scalar_type(), torch::kBFloat16);
        EXPECT_EQ(c.dq.scalar_type(), in(q).scalar_type());
        EXPECT_LT(rel_diff(c.y, d.y), 1e-2) << "T " << T << " block " << block << " autocast " << autocast;
        EXPECT_LT(rel_diff(c.dq, d.dq), 2e-2) << "T " << T << " block " << block << " autocast " << autocast;
        EXPECT_LT(rel_diff(c.dk, d.dk), 2e-2) << "T " << T << " block " << block << " autocast " << autocast;
        EXPECT_LT(rel_diff(c.dv, d.dv), 2e-2) << "T " << T << " block " << block << " autocast " << autocast;
      }
    }
  }
}

TEST(AttentionBlocks, SettingDefaultsAndOverrides) {
  {
    BlockSetting off(0);
    EXPECT_EQ(attention_block(), 0);
  }
  {
    BlockSetting b(5);
    EXPECT_EQ(attention_block(), 5);
  }
  // Back to the environment's (STRUCTLM_ATTENTION_BLOCK), or off.
  if (!std::getenv("STRUCTLM_ATTENTION_BLOCK")) EXPECT_EQ(attention_block(), 0);
}

namespace {

GPTConfig split_config(bool cstde) {
  GPTConfig c = structlm::model::testing::tiny_config(/*tied=*/false, /*bias=*/true);
  c.block_size = 48;
  c.n_embd = 32;  // head size 16
  c.vocab_size = 29;
  if (cstde) {
    c.cstde.attention = true;
    c.cstde.rank = 4;
  }
  return c;
}

struct ModelRun {
  torch::Tensor logits;
  std::vector<torch::Tensor> grads;
};

// Logits and every parameter's gradient of the loss, with the attention split into query blocks
// of `block` rows (0: unsplit).
ModelRun model_run(GPT& m, const torch::Tensor& idx, const torch::Tensor& tgt, std::int64_t block, bool bf16) {
  BlockSetting setting(block);
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

// The whole model, plain and CSTDE (log-prior softmax over D's sliced rows and keys), with T a
// multiple of the block (40 = 5 x 8), not a multiple (45, 11), and smaller than it (5): logits and
// every parameter's gradient equal the unsplit model's, fp32 within 1e-5 and bf16 within the
// bound below. Blocks of 8 rows and a head size of 16 keep every product at 8 x 16 x 8 or more:
// below 400 multiply-adds, libtorch 1.13's CPU bmm takes a kernel that sums bf16 in bf16, which
// would put the split's error above the unsplit's for the test's sake alone.
TEST(AttentionBlocks, ModelLogitsAndGradientsEqualTheUnsplitModel) {
  for (bool cstde : {false, true}) {
    const GPTConfig c = split_config(cstde);
    GPT m = make_model(c, 5, 0.3, torch::kFloat);
    for (auto& b : m->blocks)
      if (b->attn->dep_beta.defined()) {
        torch::NoGradGuard ng;
        b->attn->dep_beta.normal_(0.0, 0.5);  // a prior that matters, so D's gradient is tested
      }
    for (std::int64_t T : {40, 45, 11, 5}) {
      const auto idx = random_tokens(3, T, c.vocab_size, 100 + T);
      const auto tgt = random_tokens(3, T, c.vocab_size, 200 + T);
      const auto off = model_run(m, idx, tgt, 0, false), on = model_run(m, idx, tgt, 8, false);
      EXPECT_LT(max_abs_diff(on.logits, off.logits), 1e-5) << "cstde " << cstde << " T " << T;
      ASSERT_EQ(on.grads.size(), off.grads.size());
      for (std::size_t i = 0; i < on.grads.size(); ++i)
        EXPECT_LT(max_abs_diff(on.grads[i], off.grads[i]), 1e-5 * std::max(1.0, off.grads[i].abs().max().item<double>()))
            << "cstde " << cstde << " T " << T << " parameter " << i;
      // bf16 (autocast): the split rounds the same products and probabilities as the unsplit
      // attention, except that a key's (and a value's) gradient is summed over the query blocks in
      // bf16. Bound: the split's distance to the fp32 model at most 1.5 times the unsplit's, plus
      // 0.5 % (norms; bf16 itself is 1-6 % from fp32 here); logits within 1 % of the unsplit's.
      const auto off16 = model_run(m, idx, tgt, 0, true), on16 = model_run(m, idx, tgt, 8, true);
      EXPECT_LT(rel_diff(on16.logits, off16.logits), 1e-2) << "cstde " << cstde << " T " << T;
      EXPECT_LT(rel_diff(on16.logits, off.logits), 1.5 * rel_diff(off16.logits, off.logits) + 5e-3);
      for (std::size_t i = 0; i < on16.grads.size(); ++i)
        if (off.grads[i].norm().item<double>() > 1e-4)
          EXPECT_LT(rel_diff(on16.grads[i], off.grads[i]), 1.5 * rel_diff(off16.grads[i], off.grads[i]) + 5e-3)
              << "cstde " << cstde << " T " << T << " parameter " << i;
    }
  }
}

// A trace needs the whole [T, T] map: it takes the unsplit path, and sees what it saw before.
TEST(AttentionBlocks, TraceSeesTheFullAttentionMap) {
  const GPTConfig c = split_config(true);
  GPT m = make_model(c, 9, 0.3, torch::kFloat);
  torch::NoGradGuard ng;
  const auto idx = random_tokens(2, 11, c.vocab_size, 4);
  ForwardTrace on, off;
  torch::Tensor with_split, without;
  {
    BlockSetting s(4);
    with_split = m->forward(idx, nullptr, &on);
  }
  {
    BlockSetting s(0);
    without = m->forward(idx, nullptr, &off);
  }
  ASSERT_EQ(on.attention.size(), off.attention.size());
  for (std::size_t l = 0; l < on.attention.size(); ++l) {
    EXPECT_EQ(on.attention[l].sizes(), off.attention[l].sizes());
    EXPECT_TRUE(torch::equal(on.attention[l], off.attention[l]));
  }
  EXPECT_TRUE(torch::equal(with_split, without));
}

// A prompt through the KV cache (no past yet) takes the split; the tokens after it the cached
// path. Together they give the full forward, in inference mode too.
TEST(AttentionBlocks, KVCachePrefillThenDecodeMatchesFullForward) {
  for (bool cstde : {false, true}) {
    const GPTConfig c = split_config(cstde);
    GPT m = make_model(c, 3, 0.3, torch::kFloat);
    m->eval();
    c10::InferenceMode inference;
    const auto idx = random_tokens(2, 14, c.vocab_size, 8);
    torch::Tensor full;
    {
      BlockSetting s(0);
      full = m->forward(idx);
    }
    BlockSetting s(4);
    KVCache cache;
    std::vector<torch::Tensor> parts{m->forward(idx.slice(1, 0, 9), &cache)};
    for (std::int64_t t = 9; t < 14; ++t) parts.push_back(m->forward(idx.slice(1, t, t + 1), &cache));
    EXPECT_LT(max_abs_diff(torch::cat(parts, 1), full), 1e-5) << "cstde " << cstde;
  }
}
