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
//
// CSTDE's dependency-weighted attention (METHODS.md §1b, model.cstde.attention) plugs in as on
// the GPT (model/gpt.h): a key prior per layer (model.layers.N.dep.*, built by the factory
// zoo::make_model hands over: cstde/dependency.h) reads the layer's RMSNorm'd input, its D is
// carried from layer to layer and shared by all query heads, and each head adds
// dep_beta[h] * log(D + eps) to its rotary q.k logits before the softmax
// (model.layers.N.self_attn.dep_beta). Without it the model has exactly HF's tensors.
#pragma once
#include <torch/torch.h>

#include "formats/hf_llama_config.h"
#include "model/causal_lm.h"
#include "model/config.h"
#include "model/gpt.h"  // ForwardTrace
#include "model/key_prior.h"

namespace structlm::model {

using LlamaConfig = formats::HfLlamaConfig;

// Rotary frequencies inv_freq[i] = theta^(-2i/d), i < d/2, with Llama 3's rescaling when the
// config has it (transformers' _compute_llama3_parameters). float64.
torch::Tensor llama_inv_freq(const LlamaConfig& c);

// The model's shape as a key prior sees it (KeyPriorFactory takes a GPTConfig): width, heads,
// layers, context (max_position_embeddings, the trained context of a model built from a run
// config) and the CSTDE section.
GPTConfig key_prior_view(const LlamaConfig& c, const CstdeConfig& cstde);

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
  // `prior_gates`: CSTDE's attention is on (a gate dep_beta per query head).
  explicit LlamaAttentionImpl(const LlamaConfig& c, bool prior_gates = false);
  // x [B, T, C]; cos, sin [T, d/2] for the positions of x (past .. past+T-1 with a cache of
  // `past` positions; `cache`'s layer `layer` then grows by T). dependency: CSTDE's D
  // [B, T, past+T], shared by every query head, whose logits each add
  // dep_beta[h] * log(D + dep_epsilon) (model/log_prior.h). A trace records the head-averaged
  // attention.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        KVCache* cache = nullptr, int layer = 0, const torch::Tensor& dependency = {},
                        double dep_epsilon = 0, ForwardTrace* trace = nullptr);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  torch::Tensor dep_beta;  // [n_head], CSTDE only
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
  // With cstde.attention on, `prior` builds the layer's key prior (required then).
  LlamaDecoderLayerImpl(const LlamaConfig& c, int layer = 0, const CstdeConfig& cstde = {},
                        const KeyPriorFactory& prior = {});
  // dependency: CSTDE's D of the previous layer on entry, this layer's on return (untouched
  // without CSTDE attention).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        torch::Tensor& dependency, KVCache* cache = nullptr, int layer = 0,
                        ForwardTrace* trace = nullptr);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  std::shared_ptr<KeyPriorImpl> dep;  // CSTDE only
  double dep_epsilon = 0;
};
TORCH_MODULE(LlamaDecoderLayer);

class LlamaBackboneImpl : public torch::nn::Module {  // HF's LlamaModel: the "model." prefix
 public:
  explicit LlamaBackboneImpl(const LlamaConfig& c, const CstdeConfig& cstde = {}, const KeyPriorFactory& prior = {});
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  std::vector<LlamaDecoderLayer> blocks;  // the same modules as layers, typed
  RMSNorm norm{nullptr};
};
TORCH_MODULE(LlamaBackbone);

class LlamaForCausalLMImpl : public torch::nn::Module, public CausalLM {
 public:
  // With cstde.attention on, `prior` builds each layer's key prior (zoo::make_model and
  // zoo::load_any_model supply CSTDE's); otherwise both are ignored and the model is HF's.
  explicit LlamaForCausalLMImpl(const LlamaConfig& c, const CstdeConfig& cstde = {}, const KeyPriorFactory& prior = {});
  // ids [B, T] int64 -> logits [B, T, V], in the parameters' dtype. With a cache, ids hold only
  // the new positions (rotary angles continue from the cache's length). A trace records each
  // layer's D (CSTDE only) and head-averaged attention.
  torch::Tensor forward(const torch::Tensor& ids, KVCache* cache = nullptr, ForwardTrace* trace = nullptr);
  // The same forward from input embeddings emb [B, T, C] (what embed_tokens(ids) would give)
  // instead of ids: forward(ids) is forward_embeddings(embed_tokens(ids)), so from the table's
  // own rows the two agree bit for bit. HCMA's LM term and embedding-space probes replace that input.
  torch::Tensor forward_embeddings(const torch::Tensor& emb, KVCache* cache = nullptr, ForwardTrace* trace = nullptr);
  // The residual stream h^layer [B, T, C] after `layer` decoder layers of ids, positions 0 .. T-1
  // (0: the embeddings; num_hidden_layers: the last layer's output, before the final RMSNorm).
  // HCMA's contextual statistics read it (METHODS.md §2a).
  torch::Tensor hidden_states(const torch::Tensor& ids, int layer);
  torch::Tensor output_weight();  // lm_head's, or embed_tokens' when tied
  const LlamaConfig& config() const { return cfg; }
  // CSTDE's section when its attention is on (checkpoints carry it as metadata "cstde");
  // the default, all off, otherwise.
  const CstdeConfig& cstde_config() const { return cstde; }

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
  CstdeConfig cstde;  // attention on, or all off
  LlamaBackbone model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // only when untied
  torch::Tensor inv_freq;              // float64 [d/2]; not a parameter, not saved
};
TORCH_MODULE(LlamaForCausalLM);

// transformers' initialisation (_init_weights with initializer_range 0.02): every Linear weight
// and the embedding table N(0, 0.02), biases 0, RMSNorm weights 1. Deterministic given torch's seed.
// CSTDE's own tensors are drawn after every shared one (U, V N(0, 0.02); then beta_init and the
// prior's init), and the generator is put back where the plain model leaves it, so a plain and a
// CSTDE Llama of one seed share every common tensor bit for bit (as init_gpt2_weights).
void init_llama_weights(LlamaForCausalLMImpl& model);

// Refuses (naming `path`, `format` and a tensor) a model with tensors `format` has no place for:
// CSTDE's dependency path (model.layers.N.dep.*, dep_beta). Hugging Face and GGUF Llamas have none.
void check_plain_llama(LlamaForCausalLMImpl& model, const std::string& path, const std::string& format);

}  // namespace structlm::model
