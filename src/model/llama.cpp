#include "model/llama.h"

#include <cmath>
#include <limits>
#include <utility>

#include "model/cross_entropy.h"

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

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c)
    : n_head(c.num_attention_heads), n_kv(c.num_key_value_heads), head_dim(c.head_dim) {
  const auto C = c.hidden_size;
  const bool qkv_bias = c.attention_bias, o_bias = c.attention_bias && !c.qkv_bias_only;
  q_proj = register_module("q_proj", linear(C, n_head * head_dim, qkv_bias));
  k_proj = register_module("k_proj", linear(C, n_kv * head_dim, qkv_bias));
  v_proj = register_module("v_proj", linear(C, n_kv * head_dim, qkv_bias));
  o_proj = register_module("o_proj", linear(n_head * head_dim, C, o_bias));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                         KVCache* cache, int layer) {
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
  // The softmax in float32 whatever the scores' dtype (bf16 under autocast), as transformers does.
  auto y = torch::matmul(torch::softmax(scores, -1, torch::kFloat32).to(v.scalar_type()), v);
  return o_proj(y.transpose(1, 2).reshape({B, T, n_head * head_dim}));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& c) {
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size, c.mlp_bias));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size, c.mlp_bias));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) { return down_proj(F::silu(gate_proj(x)) * up_proj(x)); }

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& c) {
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", LlamaAttention(c));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", LlamaMLP(c));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                            KVCache* cache, int layer) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, cache, layer);
  return h + mlp(post_attention_layernorm(h));
}

LlamaBackboneImpl::LlamaBackboneImpl(const LlamaConfig& c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (std::int64_t i = 0; i < c.num_hidden_layers; ++i) {
    blocks.push_back(LlamaDecoderLayer(c));
    layers->push_back(blocks.back());
  }
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& c) : cfg(c) {
  model = register_module("model", LlamaBackbone(c));
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

torch::Tensor LlamaForCausalLMImpl::forward(const torch::Tensor& ids, KVCache* cache) {
  return forward_embeddings(model->embed_tokens(ids), cache);
}

torch::Tensor LlamaForCausalLMImpl::forward_embeddings(const torch::Tensor& emb, KVCache* cache) {
  TORCH_CHECK(emb.dim() == 3 && emb.size(2) == cfg.hidden_size, "input embeddings must be [B, T, ", cfg.hidden_size,
              "], got ", emb.sizes());
  const auto T = emb.size(1);
  const std::int64_t past = cache ? cache->length() : 0;
  TORCH_CHECK(past + T <= cfg.max_position_embeddings, "sequence of ", past + T,
              " tokens exceeds max_position_embeddings ", cfg.max_position_embeddings);
  auto x = emb;
  auto [cos, sin] = rotary(inv_freq, past, T, x);
  int layer = 0;
  for (auto& block : model->blocks) x = block->forward(x, cos, sin, cache, layer++);
  return F::linear(model->norm(x), output_weight());
}

torch::Tensor LlamaForCausalLMImpl::hidden_states(const torch::Tensor& ids, int layer) {
  TORCH_CHECK(layer >= 0 && layer <= int(model->blocks.size()), "layer ", layer, " outside 0..", model->blocks.size());
  const auto T = ids.size(1);
  TORCH_CHECK(T <= cfg.max_position_embeddings, "sequence of ", T, " tokens exceeds max_position_embeddings ",
              cfg.max_position_embeddings);
  auto x = model->embed_tokens(ids);
  auto [cos, sin] = rotary(inv_freq, 0, T, x);
  for (int l = 0; l < layer; ++l) x = model->blocks[std::size_t(l)]->forward(x, cos, sin);
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
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    const std::string& name = item.key();
    if (p.dim() >= 2)
      p.normal_(0.0, 0.02);  // Linear weights and the embedding table
    else if (name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0)
      p.zero_();
    else
      p.fill_(1.0);  // RMSNorm gains
  }
}

}  // namespace structlm::model
