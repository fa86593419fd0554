#include "model/gpt.h"
#include "model/attention_blocks.h"
#include "model/cross_entropy.h"
#include "model/log_prior.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

#include "model/causal_softmax.h"
#include "model/gelu.h"
#include "model/layer_norm.h"
#include "model/precision.h"

namespace structlm::model {

namespace F = torch::nn::functional;

// x W^T + b through at::linear, which autocast runs in bf16 with the bias cast too, and which
// folds the bias into the matrix product (addmm) for contiguous 3-D input. torch::nn::Linear's
// forward (libtorch 1.13's F::linear) is matmul then `out += bias`: under bf16 autocast that adds
// an fp32 bias into a bf16 output in place, a pass that widens the whole output to fp32 and
// narrows it back (two copies per projection per layer; 13 % of a traced bf16 step, issue 12).
static torch::Tensor linear(const torch::nn::Linear& l, const torch::Tensor& x) {
  return torch::linear(x, l->weight, l->bias);
}

// ---- attention -------------------------------------------------------------------------------

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& c)
    : n_head(c.n_head), n_embd(c.n_embd), block_size(c.block_size) {
  // q, k, v in one matmul (as GPT-2), then the output projection back into the residual stream.
  c_attn = register_module("c_attn", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, 3 * c.n_embd).bias(c.bias)));
  c_proj = register_module("c_proj", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, c.n_embd).bias(c.bias)));
  attn_dropout = register_module("attn_dropout", torch::nn::Dropout(c.dropout));
  resid_dropout = register_module("resid_dropout", torch::nn::Dropout(c.dropout));
  // Starts at model.cstde.beta_init (init_gpt2_weights); at the default 0 a CSTDE model begins as
  // the plain transformer and learns how much prior to use.
  if (c.cstde.attention) dep_beta = register_parameter("dep_beta", torch::zeros({c.n_head}));
}

// Built once per device and dtype for the whole block and sliced, rather than rebuilt by every
// forward of every layer. Not a registered buffer: it is derived, never trained or saved.
torch::Tensor CausalSelfAttentionImpl::causal_mask(std::int64_t past, std::int64_t T, const torch::Tensor& like) {
  const auto Tk = past + T;
  if (!mask_.defined() || mask_.device() != like.device() || mask_.scalar_type() != like.scalar_type() ||
      mask_.size(0) < Tk) {
    c10::InferenceMode normal_tensor(false);  // usable by autograd even if first built in inference mode
    const auto n = std::max(block_size, Tk);
    mask_ = torch::full({n, n}, -std::numeric_limits<double>::infinity(), like.options()).triu(1);
  }
  return mask_.slice(0, past, Tk).slice(1, 0, Tk);  // query i (position past + i) sees keys 0 .. past + i
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x, KVCache* cache, int layer,
                                               const torch::Tensor& dependency, double dep_epsilon,
                                               ForwardTrace* trace) {
  const auto B = x.size(0), T = x.size(1), hd = n_embd / n_head;
  // One copy lays q, k and v out head by head ([3, B, n_head, T, hd]), so each is a contiguous
  // [B * n_head, T, hd] batch for the matmuls below, which would otherwise copy each of them.
  // unbind rather than qkv[0], qkv[1], qkv[2]: its backward stacks the three gradients in one
  // pass, where three selects' backwards each zero-fill a full [3, ...] tensor and add them up.
  auto qkv = linear(c_attn, x).view({B, T, 3, n_head, hd}).permute({2, 0, 3, 1, 4}).contiguous().unbind(0);
  auto q = qkv[0], k = qkv[1], v = qkv[2];  // [B, nh, T, hd]

  std::int64_t past = 0;
  if (cache) {
    if ((int)cache->k.size() <= layer) {
      cache->k.resize(layer + 1);
      cache->v.resize(layer + 1);
    }
    if (cache->k[layer].defined()) {
      past = cache->k[layer].size(2);
      k = torch::cat({cache->k[layer], k}, 2);
      v = torch::cat({cache->v[layer], v}, 2);
    }
    cache->k[layer] = k;
    cache->v[layer] = v;
  }
  const auto Tk = k.size(2);

  torch::Tensor y;
#if TORCH_VERSION_MAJOR >= 2
  // Fused attention (flash / memory-efficient kernels on CUDA). is_causal aligns the mask to the
  // top-left corner, which is right when there is no past; a single new token sees everything.
  if (!dependency.defined() && !trace && (past == 0 || T == 1)) {
    double p = is_training() ? attn_dropout->options.p() : 0.0;
    y = at::scaled_dot_product_attention(q, k, v, {}, p, /*is_causal=*/past == 0 && T > 1);
  }
#endif
  const double scale = 1.0 / std::sqrt(double(hd));
  const auto block = attention_block();
  if (!y.defined() && !trace && past == 0 && block > 0 && T > block && q.device().is_cpu()) {
    // The whole sequence at once: by query blocks, never forming the masked upper triangle
    // (model/attention_blocks.h; off unless STRUCTLM_ATTENTION_BLOCK=N asks for blocks of N
    // rows). Exact: each row's support lies in its block. A trace takes the unsplit path below
    // (it needs the full map).
    const auto BH = B * n_head;
    y = block_causal_attention(
            q.reshape({BH, T, hd}), k.reshape({BH, T, hd}), v.reshape({BH, T, hd}), causal_mask(0, T, q), scale, block,
            [&](const torch::Tensor& att, std::int64_t s, std::int64_t e) {
              torch::Tensor p;
              if (dependency.defined()) {
                // D's rows [s, e) and keys [0, e): the rest of those rows is masked, P = 0 there.
                const auto Di = dependency.slice(1, s, e).slice(2, 0, e);
                p = log_prior_softmax(att.view({B, n_head, e - s, e}), dep_beta, Di, dep_epsilon).view({BH, e - s, e});
              } else {
                p = torch::softmax(att, -1);
              }
              return attn_dropout(p);
            })
            .view({B, n_head, T, hd});
  }
  if (!y.defined()) {
    // softmax(q k^T / sqrt(hd) + mask) v. baddbmm computes mask + scale * (q k^T) in one call, so
    // neither the scaling nor the masking is a separate pass over the [T, Tk] scores; with
    // STRUCTLM_FUSED_SOFTMAX=1 the plain attention takes q k^T unscaled and unmasked and one fused
    // pass does scale, mask and softmax (model/causal_softmax.h).
    const bool fused_softmax = !dependency.defined() && fused_causal_softmax();
    auto att = fused_softmax ? torch::bmm(q.reshape({B * n_head, T, hd}), k.reshape({B * n_head, Tk, hd}).transpose(1, 2))
                             : torch::baddbmm(causal_mask(past, T, q), q.reshape({B * n_head, T, hd}),
                                              k.reshape({B * n_head, Tk, hd}).transpose(1, 2), /*beta=*/1.0,
                                              /*alpha=*/scale);
    if (fused_softmax) {
      att = causal_softmax(att, scale, past);
    } else if (dependency.defined()) {
      // softmax(att + beta_h * log(D + eps)): D is [B, T, Tk] once per layer, shared by the heads;
      // one fused pass forward and one backward (model/log_prior.h).
      att = log_prior_softmax(att.view({B, n_head, T, Tk}), dep_beta, dependency, dep_epsilon).view({B * n_head, T, Tk});
    } else {
      att = torch::softmax(att, -1);
    }
    if (trace) trace->attention.push_back(att.detach().view({B, n_head, T, Tk}).mean(1));
    att = attn_dropout(att);
    y = torch::bmm(att, v.reshape({B * n_head, Tk, hd})).view({B, n_head, T, hd});
  }
  y = y.transpose(1, 2).contiguous().view({B, T, n_embd});
  return resid_dropout(linear(c_proj, y));
}

// ---- MLP and block ---------------------------------------------------------------------------

MLPImpl::MLPImpl(const GPTConfig& c) {
  c_fc = register_module("c_fc", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, 4 * c.n_embd).bias(c.bias)));
  c_proj = register_module("c_proj", torch::nn::Linear(torch::nn::LinearOptions(4 * c.n_embd, c.n_embd).bias(c.bias)));
  dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return dropout(linear(c_proj, gelu_tanh(linear(c_fc, x))));  // GPT-2 uses the tanh approximation; bf16 computed in fp32 (model/gelu.h)
}

// ln(x) by the fused kernel (model/layer_norm.h), written in `out`: under bf16 autocast, bf16 for
// an output that only feeds matrix products, sparing the cast down and, in backward, the cast of
// its gradient back up.
static torch::Tensor norm(const torch::nn::LayerNorm& ln, const torch::Tensor& x, at::ScalarType out) {
  return layer_norm(x, ln->weight, ln->bias, ln->options.eps(), out);
}

static torch::nn::LayerNorm layer_norm(const GPTConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.n_embd}).elementwise_affine(true).eps(1e-5));
}

BlockImpl::BlockImpl(const GPTConfig& c, int layer, const KeyPriorFactory& prior) {
  ln_1 = register_module("ln_1", layer_norm(c));
  attn = register_module("attn", CausalSelfAttention(c));
  if (c.cstde.attention) {
    if (!prior)
      throw std::logic_error(  // a programming error: every caller builds through the zoo
          "model: model.cstde.attention is on but no key prior was supplied to build it with "
          "(build models through zoo::make_gpt or zoo::load_model)");
    dep = register_module("dep", prior(c, layer));
    dep_epsilon = c.cstde.epsilon;
  }
  ln_2 = register_module("ln_2", layer_norm(c));
  mlp = register_module("mlp", MLP(c));
  if (!c.bias) {
    // torch's LayerNorm always has a bias; without biases it is frozen at zero and not a parameter.
    ln_1->bias.set_requires_grad(false);
    ln_2->bias.set_requires_grad(false);
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, torch::Tensor& dependency, KVCache* cache, int layer,
                                 ForwardTrace* trace) {
  // CSTDE's key prior reads ln_1's output too and gets it in the residual stream's dtype.
  auto xn = norm(ln_1, x, dep ? x.scalar_type() : matmul_input_dtype(x));
  if (dep) {
    dependency = dep->forward(xn, dependency, cache, layer);  // the scorer reads the same LN'd input as attention
    if (trace) trace->dependency.push_back(dependency.detach());
  }
  // pre-LayerNorm residual blocks
  auto h = x + attn(xn, cache, layer, dep ? dependency : torch::Tensor(), dep_epsilon, trace);
  return h + mlp(norm(ln_2, h, matmul_input_dtype(h)));
}

// ---- the model -------------------------------------------------------------------------------

namespace {

// The default CPU generator's state, read or set under its lock.
torch::Tensor generator_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}
void set_generator_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

GPTImpl::GPTImpl(const GPTConfig& c, const KeyPriorFactory& prior) : cfg(c) {
  // torch's modules initialise themselves from the global generator as they are built, and a
  // CSTDE model builds more of them; init_gpt2_weights draws every weight again from where the
  // generator stood before any of that, so the variants of one seed start from the same place.
  const torch::Tensor start = generator_state();
  wte = register_module("wte", torch::nn::Embedding(c.vocab_size, c.n_embd));
  wpe = register_module("wpe", torch::nn::Embedding(c.block_size, c.n_embd));
  drop = register_module("drop", torch::nn::Dropout(c.dropout));
  h = register_module("h", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.n_layer; ++i) {
    blocks.push_back(Block(c, (int)i, prior));
    h->push_back(blocks.back());
  }
  ln_f = register_module("ln_f", layer_norm(c));
  if (!c.bias) ln_f->bias.set_requires_grad(false);
  if (!c.tied)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, c.vocab_size).bias(false)));
  set_generator_state(start);
  init_gpt2_weights(*this);
}

torch::Tensor GPTImpl::output_weight() { return cfg.tied ? wte->weight : lm_head->weight; }

torch::Tensor GPTImpl::forward(const torch::Tensor& idx, KVCache* cache, ForwardTrace* trace) {
  return forward_embeddings(wte(idx), cache, trace);
}

torch::Tensor GPTImpl::forward_embeddings(const torch::Tensor& tok_emb, KVCache* cache, ForwardTrace* trace) {
  const auto T = tok_emb.size(1);
  const std::int64_t past = cache ? cache->length() : 0;
  TORCH_CHECK(past + T <= cfg.block_size, "sequence of ", past + T, " tokens exceeds block_size ", cfg.block_size);
  auto pos = torch::arange(past, past + T, torch::TensorOptions().dtype(torch::kLong).device(tok_emb.device()));
  auto x = drop(tok_emb + wpe(pos));
  torch::Tensor dependency;  // CSTDE's D, carried from layer to layer
  for (std::size_t l = 0; l < blocks.size(); ++l) x = blocks[l]->forward(x, dependency, cache, (int)l, trace);
  return logits_from_residual(x);
}

torch::Tensor GPTImpl::logits_from_residual(const torch::Tensor& h) {
  return F::linear(norm(ln_f, h, matmul_input_dtype(h)), output_weight());
}

torch::Tensor GPTImpl::hidden_states(const torch::Tensor& idx, int layer) {
  TORCH_CHECK(layer >= 0 && layer <= (int)blocks.size(), "layer ", layer, " outside 0..", blocks.size());
  const auto T = idx.size(1);
  TORCH_CHECK(T <= cfg.block_size, "sequence of ", T, " tokens exceeds block_size ", cfg.block_size);
  auto pos = torch::arange(0, T, torch::TensorOptions().dtype(torch::kLong).device(idx.device()));
  auto x = drop(wte(idx) + wpe(pos));
  torch::Tensor dependency;
  for (int l = 0; l < layer; ++l) x = blocks[std::size_t(l)]->forward(x, dependency);
  return x;
}

torch::Tensor GPTImpl::loss(const torch::Tensor& idx, const torch::Tensor& targets) {
  // Under bf16 autocast the logits come out in bf16; the log-softmax over the vocabulary is
  // computed in fp32 inside the fused loss (model/cross_entropy.h), as CUDA autocast does for
  // cross_entropy. fp64 (gradient checks) stays fp64.
  auto logits = forward(idx);
  return cross_entropy(logits.view({-1, logits.size(-1)}), targets.reshape({-1}));
}

std::vector<torch::Tensor> GPTImpl::decay_params() {
  std::vector<torch::Tensor> out;
  for (auto& p : parameters())
    if (p.requires_grad() && p.dim() >= 2) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> GPTImpl::no_decay_params() {
  std::vector<torch::Tensor> out;
  for (auto& p : parameters())
    if (p.requires_grad() && p.dim() < 2) out.push_back(p);
  return out;
}

std::int64_t GPTImpl::num_params() {
  std::int64_t n = 0;
  for (auto& p : parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

void init_gpt2_weights(GPTImpl& m) {
  torch::NoGradGuard no_grad;
  const double std = 0.02, proj_std = 0.02 / std::sqrt(2.0 * m.cfg.n_layer);
  auto init = [&](const std::string& name, torch::Tensor& p) {
    if (p.dim() >= 2) {
      // Residual projections are scaled down so the residual stream's variance does not grow
      // with depth (GPT-2 paper, §2.3).
      bool residual = name.size() > 13 && name.compare(name.size() - 13, 13, "c_proj.weight") == 0;
      p.normal_(0.0, residual ? proj_std : std);
    } else if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0) {
      p.fill_(1.0);  // LayerNorm gain
    } else {
      p.zero_();  // biases (LayerNorm's too: frozen at zero when bias = false)
    }
  };
  // Paired seeds across variants (issue 14): the tensors every variant has are drawn first, in
  // name order, so a plain model and a CSTDE model of one seed share them bit for bit; CSTDE's own
  // follow on the same generator, which is then put back where the plain model leaves it, so
  // whatever draws next (dropout, sampling) draws the same numbers in every variant.
  for (auto& item : m.named_parameters())
    if (!is_key_prior_parameter(item.key())) init(item.key(), item.value());
  const torch::Tensor after_shared = generator_state();
  for (auto& item : m.named_parameters())
    if (is_key_prior_parameter(item.key())) init(item.key(), item.value());
  // CSTDE's deterministic starting values, off the beta = 0 saddle by config (docs/CSTDE.md):
  // model.cstde.beta_init and the prior's own (prior_init). No draws.
  for (auto& b : m.blocks) {
    if (b->attn->dep_beta.defined()) b->attn->dep_beta.fill_(m.cfg.cstde.beta_init);
    if (b->dep) b->dep->init_parameters();
  }
  set_generator_state(after_shared);
}

void init_gpt2_weights(GPT& model) { init_gpt2_weights(*model); }

}  // namespace structlm::model
