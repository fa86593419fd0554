// The Llama family's decoder (issue 16): Hugging Face's LlamaForCausalLM and the members sharing
// its block (Mistral without a sliding window, Qwen2 with its q/k/v biases). Pre-RMSNorm layers,
// rotary positions in HF's "half" layout (dimension i paired with i + d/2; Llama 3's frequency
// scaling), grouped-query attention (query head h reads key/value head h / (heads / kv_heads)),
// SwiGLU MLP, tied or untied output:
//   h = embed_tokens[ids]
//   per layer:  h += o_proj(attention(rope(q_proj(n)), rope(k_proj(n)), v_proj(n))),  n = RMSNorm1(h)
//               h += down_proj(silu(gate_proj(n)) * up_proj(n)),                       n = RMSNorm2(h)
//   logits = RMSNorm_f(h) W_out^T       RMSNorm(x) = x / sqrt(mean(x^2) + eps) * weight
// Module names are HF's (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ...,
// lm_head.weight when untied), so named_parameters() are the names in HF checkpoints. The config
// is HF's own (formats/hf_llama_config.h): the family is defined by it. Tested against
// scripts/reference/llama_ref.py's independent model.
#pragma once
#include <torch/torch.h>

#include "formats/hf_llama_config.h"
#include "model/causal_lm.h"

namespace structlm::model {

using LlamaConfig = formats::HfLlamaConfig;

// Rotary frequencies inv_freq[i] = theta^(-2i/d), i < d/2, with Llama 3's rescaling when the
// config has it (transformers' _compute_llama3_parameters). float64.
torch::Tensor llama_inv_freq(const LlamaConfig& c);

class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(std::int64_t n, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaConfig& c);
  // x [B, T, C]; cos, sin [T, d/2] for the positions of x (past .. past+T-1 with a cache of
  // `past` positions; `cache`'s layer `layer` then grows by T).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        KVCache* cache = nullptr, int layer = 0);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  std::int64_t n_head, n_kv, head_dim;
};
TORCH_MODULE(LlamaAttention);

class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const LlamaConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        KVCache* cache = nullptr, int layer = 0);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

class LlamaBackboneImpl : public torch::nn::Module {  // HF's LlamaModel: the "model." prefix
 public:
  explicit LlamaBackboneImpl(const LlamaConfig& c);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<LlamaDecoderLayer> blocks;  // the same modules as layers, typed
  RMSNorm norm{nullptr};
};
TORCH_MODULE(LlamaBackbone);

class LlamaForCausalLMImpl : public torch::nn::Module, public CausalLM {
 public:
  explicit LlamaForCausalLMImpl(const LlamaConfig& c);
  // ids [B, T] int64 -> logits [B, T, V], in the parameters' dtype. With a cache, ids hold only
  // the new positions (rotary angles continue from the cache's length).
  torch::Tensor forward(const torch::Tensor& ids, KVCache* cache = nullptr);
  // The same forward from input embeddings emb [B, T, C] (what embed_tokens(ids) would give)
  // instead of ids: forward(ids) is forward_embeddings(embed_tokens(ids)), so from the table's
  // own rows the two agree bit for bit. HCMA's LM term and embedding-space probes replace that input.
  torch::Tensor forward_embeddings(const torch::Tensor& emb, KVCache* cache = nullptr);
  // The residual stream h^layer [B, T, C] after `layer` decoder layers of ids, positions 0 .. T-1
  // (0: the embeddings; num_hidden_layers: the last layer's output, before the final RMSNorm).
  // HCMA's contextual statistics read it (METHODS.md §2a).
  torch::Tensor hidden_states(const torch::Tensor& ids, int layer);
  torch::Tensor output_weight();  // lm_head's, or embed_tokens' when tied
  const LlamaConfig& config() const { return cfg; }

  // Training (train/trainer.h), as GPTImpl's: mean next-token cross-entropy (targets [B, T]),
  // computed in fp32 inside the fused loss under bf16 autocast; AdamW's groups (matrices and
  // embeddings decay; biases and RMSNorm weights do not), disjoint and together every
  // parameter; the parameter count (a tied matrix once).
  torch::Tensor loss(const torch::Tensor& ids, const torch::Tensor& targets);
  std::vector<torch::Tensor> decay_params();
  std::vector<torch::Tensor> no_decay_params();
  std::int64_t num_params();

  // CausalLM (model/causal_lm.h).
  torch::Tensor next_token_logits(const torch::Tensor& ids, KVCache* cache) override { return forward(ids, cache); }
  std::int64_t context_length() const override { return cfg.max_position_embeddings; }
  std::int64_t vocabulary_rows() const override { return cfg.vocab_size; }
  torch::nn::Module& module() override { return *this; }
  // The embedding view (HCMA): model.embed_tokens, forward_embeddings, hidden_states.
  const char* arch() const override { return "llama"; }
  torch::Tensor input_table() override { return model->embed_tokens->weight; }
  const char* input_table_name() const override { return "model.embed_tokens.weight"; }
  torch::Tensor output_matrix() override { return output_weight(); }
  bool tied_output() const override { return cfg.tie_word_embeddings; }
  torch::Tensor logits_from_embeddings(const torch::Tensor& emb) override { return forward_embeddings(emb); }
  torch::Tensor residual_stream(const torch::Tensor& ids, int layer) override { return hidden_states(ids, layer); }
  torch::Tensor logits_from_residual(const torch::Tensor& h) override {
    return torch::nn::functional::linear(model->norm(h), output_weight());
  }
  int num_layers() const override { return int(cfg.num_hidden_layers); }
  std::int64_t width() const override { return cfg.hidden_size; }

  LlamaConfig cfg;
  LlamaBackbone model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // only when untied
  torch::Tensor inv_freq;              // float64 [d/2]; not a parameter, not saved
};
TORCH_MODULE(LlamaForCausalLM);

// transformers' initialisation (_init_weights with initializer_range 0.02): every Linear weight
// and the embedding table N(0, 0.02), biases 0, RMSNorm weights 1. Deterministic given torch's seed.
void init_llama_weights(LlamaForCausalLMImpl& model);

}  // namespace structlm::model
