#include "model/llama.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "core/error.h"
#include "model/cross_entropy.h"
#include "model/generator_state.h"
#include "model/log_prior.h"

namespace structlm::model {

namespace F = torch::nn::functional;

torch::Tensor llama_inv_freq(const LlamaConfig& c) {
  const auto d = c.head_dim;
  auto inv = 1.0 / torch::pow(torch::full({}, c.rope_theta, torch::kFloat64),
                              torch::arange(0, d, 2, torch::kFloat64) / double(d));
  if (c.rope_factor == 0) return inv;
  // Llama 3: with wavelength w = 2 pi / f and L = original_max_position_embeddings, a frequency
  // whose w < L / high_freq_factor is kept, one whose w > L / low_freq_factor is divided by
  // factor, and one in between is blended: s = (L / w - low) / (high - low),
  // f' = (1 - s) f / factor + s f.
  const double L = double(c.rope_original_max_positions), low = c.rope_low_freq_factor, high = c.rope_high_freq_factor;
  auto wavelen = 2 * M_PI / inv;
  auto scaled = torch::where(wavelen > L / low, inv / c.rope_factor, inv);
  auto smooth = (L / wavelen - low) / (high - low);
  auto blended = (1 - smooth) * scaled / c.rope_factor + smooth * scaled;
  auto medium = (wavelen >= L / high) & (wavelen <= L / low);
  return torch::where(medium, blended, scaled);
}

GPTConfig key_prior_view(const LlamaConfig& c, const CstdeConfig& cstde) {
  GPTConfig g;
  g.vocab_size = c.vocab_size;
  g.block_size = c.max_position_embeddings;
  g.n_layer = c.num_hidden_layers;
  g.n_head = c.num_attention_heads;
  g.n_embd = c.hidden_size;
  g.dropout = 0;
  g.bias = false;
  g.tied = c.tie_word_embeddings;
  g.cstde = cstde;
  return g;
}

RMSNormImpl::RMSNormImpl(std::int64_t n, double e) : eps(e) { weight = register_parameter("weight", torch::ones({n})); }

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * weight;
}

namespace {

torch::nn::Linear linear(std::int64_t in, std::int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// HF's rotate_half convention: dimension i pairs with i + d/2.
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const auto h = x.size(-1) / 2;
  auto x1 = x.slice(-1, 0, h), x2 = x.slice(-1, h);
  return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

}  // namespace

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c, bool prior_gates)
    : n_head(c.num_attention_heads), n_kv(c.num_key_value_heads), head_dim(c.head_dim) {
  const auto C = c.hidden_size;
  const bool qkv_bias = c.attention_bias, o_bias = c.attention_bias && !c.qkv_bias_only;
  q_proj = register_module("q_proj", linear(C, n_head * head_dim, qkv_bias));
  k_proj = register_module("k_proj", linear(C, n_kv * head_dim, qkv_bias));
  v_proj = register_module("v_proj", linear(C, n_kv * head_dim, qkv_bias));
  o_proj = register_module("o_proj", linear(n_head * head_dim, C, o_bias));
  // One gate per query head, as the GPT's: set to model.cstde.beta_init by init_llama_weights.
  if (prior_gates) dep_beta = register_parameter("dep_beta", torch::zeros({n_head}));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                         KVCache* cache, int layer, const torch::Tensor& dependency,
                                         double dep_epsilon, ForwardTrace* trace) {
  const auto B = x.size(0), T = x.size(1);
  auto q = rope(q_proj(x).view({B, T, n_head, head_dim}).transpose(1, 2), cos, sin);  // [B, H, T, d]
  auto k = rope(k_proj(x).view({B, T, n_kv, head_dim}).transpose(1, 2), cos, sin);   // [B, KV, T, d]
  auto v = v_proj(x).view({B, T, n_kv, head_dim}).transpose(1, 2);
  std::int64_t past = 0;
  if (cache) {  // the cache holds the kv heads as computed (rotated keys), before any repeat
    if (cache->k.size() <= std::size_t(layer)) {
      cache->k.resize(layer + 1);
      cache->v.resize(layer + 1);
    }
    auto& ck = cache->k[layer];
    auto& cv = cache->v[layer];
    if (ck.defined()) {
      past = ck.size(2);
      k = torch::cat({ck, k}, 2);
      v = torch::cat({cv, v}, 2);
    }
    ck = k;
    cv = v;
  }
  const auto rep = n_head / n_kv;  // query head h reads key/value head h / rep
  k = k.repeat_interleave(rep, 1);
  v = v.repeat_interleave(rep, 1);
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(head_dim));
  // Query i (position past + i) sees keys 0 .. past + i.
  auto future = torch::ones({T, past + T}, torch::TensorOptions().dtype(torch::kBool).device(x.device())).triu(past + 1);
  scores = scores.masked_fill(future, -std::numeric_limits<double>::infinity());
  torch::Tensor probs;
  if (dependency.defined()) {
    // CSTDE: softmax(scores + beta_h * log(D + eps)), D [B, T, Tk] once per layer for every query
    // head (grouped-query attention shares keys, not the prior's gates); the fused pass the GPT
    // uses (model/log_prior.h), which works in fp32 for bf16 scores and returns their dtype.
    probs = log_prior_softmax(scores.contiguous(), dep_beta, dependency, dep_epsilon);
  } else {
    // The softmax in float32 whatever the scores' dtype (bf16 under autocast), as transformers
    // does; float64 (gradient checks) stays float64.
    probs = torch::softmax(scores, -1, scores.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat32);
  }
  if (trace) trace->attention.push_back(probs.detach().mean(1));
  auto y = torch::matmul(probs.to(v.scalar_type()), v);
  return o_proj(y.transpose(1, 2).reshape({B, T, n_head * head_dim}));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& c) {
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size, c.mlp_bias));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) { return down_proj(F::silu(gate_proj(x)) * up_proj(x)); }

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& c, int layer, const CstdeConfig& cstde,
                                             const KeyPriorFactory& prior) {
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", LlamaAttention(c, cstde.attention));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", LlamaMLP(c));
  if (cstde.attention) {
    if (!prior)
      throw std::logic_error(  // a programming error: every caller builds through the zoo
          "model: a Llama with model.cstde.attention on needs a key prior to build it with "
          "(build models through zoo::make_model or zoo::load_any_model)");
    // The prior's modules draw their default init from the global generator as they are built;
    // kept out of the shared modules' sequence, so a plain and a CSTDE Llama construct alike.
    GeneratorRestore keep;
    dep = register_module("dep", prior(key_prior_view(c, cstde), layer));
    dep_epsilon = cstde.epsilon;
  }
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                            torch::Tensor& dependency, KVCache* cache, int layer, ForwardTrace* trace) {
  auto n = input_layernorm(x);
  if (dep) {
    dependency = dep->forward(n, dependency, cache, layer);  // the scorer reads the same normalised input as attention
    if (trace) trace->dependency.push_back(dependency.detach());
  }
  auto h = x + self_attn(n, cos, sin, cache, layer, dep ? dependency : torch::Tensor(), dep_epsilon, trace);
  return h + mlp(post_attention_layernorm(h));
}

LlamaBackboneImpl::LlamaBackboneImpl(const LlamaConfig& c, const CstdeConfig& cstde, const KeyPriorFactory& prior) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    blocks.push_back(LlamaDecoderLayer(c, int(i), cstde, prior));
    layers->push_back(blocks.back());
  }
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& c, const CstdeConfig& cstde_section,
                                           const KeyPriorFactory& prior)
    : cfg(c), cstde(cstde_section.attention ? cstde_section : CstdeConfig()) {
  cstde.init = false;  // the structured init is the trainer's, done before any step: not the model's shape
  model = register_module("model", LlamaBackbone(c, cstde, prior));
  if (!c.tie_word_embeddings)
    lm_head = register_module("lm_head", linear(c.hidden_size, c.vocab_size, /*bias=*/false));
  inv_freq = llama_inv_freq(c);
}

torch::Tensor LlamaForCausalLMImpl::output_weight() {
  return cfg.tie_word_embeddings ? model->embed_tokens->weight : lm_head->weight;
}

namespace {

// The rotary angles' cos and sin [T, d/2] for positions past .. past+T-1: in float64, then cast
// to the activations' dtype and device (as the reference and HF do).
std::pair<torch::Tensor, torch::Tensor> rotary(const torch::Tensor& inv_freq, std::int64_t past, std::int64_t T,
                                               const torch::Tensor& like) {
  auto angles = torch::arange(past, past + T, torch::kFloat64).unsqueeze(1) * inv_freq.unsqueeze(0);
  return {angles.cos().to(like.options()), angles.sin().to(like.options())};
}

}  // namespace

torch::Tensor LlamaForCausalLMImpl::forward(const torch::Tensor& ids, KVCache* cache, ForwardTrace* trace) {
  return forward_embeddings(model->embed_tokens(ids), cache, trace);
}

torch::Tensor LlamaForCausalLMImpl::forward_embeddings(const torch::Tensor& emb, KVCache* cache, ForwardTrace* trace) {
  TORCH_CHECK(emb.dim() == 3 && emb.size(2) == cfg.hidden_size, "input embeddings must be [B, T, ", cfg.hidden_size,
              "], got ", emb.sizes());
  const auto T = emb.size(1);
  const std::int64_t past = cache ? cache->length() : 0;
  TORCH_CHECK(past + T <= cfg.max_position_embeddings, "sequence of ", past + T,
              " tokens exceeds max_position_embeddings ", cfg.max_position_embeddings);
  auto x = emb;
  auto [cos, sin] = rotary(inv_freq, past, T, x);
  int layer = 0;
  torch::Tensor dependency;  // CSTDE's D, carried from layer to layer
  for (auto& block : model->blocks) x = block->forward(x, cos, sin, dependency, cache, layer++, trace);
  return F::linear(model->norm(x), output_weight());
}

torch::Tensor LlamaForCausalLMImpl::hidden_states(const torch::Tensor& ids, int layer) {
  TORCH_CHECK(layer >= 0 && layer <= int(model->blocks.size()), "layer ", layer, " outside 0..", model->blocks.size());
  const auto T = ids.size(1);
  TORCH_CHECK(T <= cfg.max_position_embeddings, "sequence of ", T, " tokens exceeds max_position_embeddings ",
              cfg.max_position_embeddings);
  auto x = model->embed_tokens(ids);
  auto [cos, sin] = rotary(inv_freq, 0, T, x);
  torch::Tensor dependency;
  for (int l = 0; l < layer; ++l) x = model->blocks[std::size_t(l)]->forward(x, cos, sin, dependency);
  return x;
}

torch::Tensor LlamaForCausalLMImpl::loss(const torch::Tensor& ids, const torch::Tensor& targets) {
  auto logits = forward(ids);
  return cross_entropy(logits.view({-1, logits.size(-1)}), targets.reshape({-1}));
}

std::vector<torch::Tensor> LlamaForCausalLMImpl::decay_params() {
  std::vector<torch::Tensor> out;
  for (auto& p : parameters())
    if (p.requires_grad() && p.dim() >= 2) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> LlamaForCausalLMImpl::no_decay_params() {
  std::vector<torch::Tensor> out;
  for (auto& p : parameters())
    if (p.requires_grad() && p.dim() < 2) out.push_back(p);
  return out;
}

std::int64_t LlamaForCausalLMImpl::num_params() {
  std::int64_t n = 0;
  for (auto& p : parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

void init_llama_weights(LlamaForCausalLMImpl& m) {
  torch::NoGradGuard no_grad;
  // Paired seeds across variants (issue 14), as init_gpt2_weights: the tensors every variant has
  // first, in name order; CSTDE's own after them; then the generator goes back to where the plain
  // model leaves it.
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    const std::string& name = item.key();
    if (is_key_prior_parameter(name)) continue;
    if (p.dim() >= 2)
      p.normal_(0.0, 0.02);  // Linear weights and the embedding table
    else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      p.zero_();
    else
      p.fill_(1.0);  // RMSNorm gains
  }
  const torch::Tensor after_shared = generator_state();
  for (auto& item : m.named_parameters()) {
    if (!is_key_prior_parameter(item.key())) continue;
    // The scorer's U and V as the GPT's (N(0, 0.02), also the Llama's initializer_range); the
    // vectors (bias, carry logit, gates) zero before their deterministic values below.
    if (item.value().dim() >= 2)
      item.value().normal_(0.0, 0.02);
    else
      item.value().zero_();
  }
  // CSTDE's starting values off the beta = 0 saddle by config (docs/CSTDE.md): beta_init, and the
  // prior's own (prior_init). No draws.
  for (auto& b : m.model->blocks) {
    if (b->self_attn->dep_beta.defined()) b->self_attn->dep_beta.fill_(m.cstde.beta_init);
    if (b->dep) b->dep->init_parameters();
  }
  set_generator_state(after_shared);
}

void check_plain_llama(LlamaForCausalLMImpl& m, const std::string& path, const std::string& format) {
  for (auto& item : m.named_parameters())
    if (is_key_prior_parameter(item.key()))
      fail(path, "tensor '" + item.key() + "' is CSTDE's dependency-weighted attention (model.cstde.attention), which " +
                     format + " has no place for: a " + format +
                     " Llama would silently be another model; not exported (use the structlm checkpoint)");
}

}  // namespace structlm::model
