// A GPT-2-style decoder: learned positions, pre-LayerNorm blocks, GELU (tanh), causal
// self-attention, tied or untied output. Parameter names follow nanoGPT/HF GPT-2
// (wte, wpe, h.N.ln_1, h.N.attn.c_attn, h.N.attn.c_proj, h.N.ln_2, h.N.mlp.c_fc, h.N.mlp.c_proj,
// ln_f, lm_head) with torch's Linear layout [out, in].
// CSTDE (METHODS.md §1b, switched on by config.cstde.attention) adds a key prior to each block
// (h.N.dep.*, the interface in model/key_prior.h; CSTDE's is cstde/dependency.h) and a gate per
// head (h.N.attn.dep_beta, starting at model.cstde.beta_init); with it off the model has exactly the plain GPT's
// tensors and arithmetic.
#pragma once
#include <torch/torch.h>

#include "model/causal_lm.h"
#include "model/config.h"
#include "model/key_prior.h"

namespace structlm::model {

// What a forward pass can record for inspection (structlm parse, UAS): per layer, the dependency
// distribution D^l (CSTDE only) and the attention probabilities averaged over heads, [B, T, Tk].
struct ForwardTrace {
  std::vector<torch::Tensor> dependency;
  std::vector<torch::Tensor> attention;
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const GPTConfig& c);
  // x: [B, T, C]. `cache`/`layer` for incremental decoding (positions continue after cache).
  // dependency: CSTDE's D [B, T, Tk] shared by the heads, whose logits each add
  // dep_beta[h] * log(D + dep_epsilon) (model/log_prior.h).
  torch::Tensor forward(const torch::Tensor& x, KVCache* cache = nullptr, int layer = 0,
                        const torch::Tensor& dependency = {}, double dep_epsilon = 0, ForwardTrace* trace = nullptr);
  torch::nn::Linear c_attn{nullptr}, c_proj{nullptr};
  torch::nn::Dropout attn_dropout{nullptr}, resid_dropout{nullptr};
  torch::Tensor dep_beta;  // [n_head], CSTDE only
  std::int64_t n_head, n_embd, block_size;

 private:
  // Additive causal mask for queries at positions past .. past+T-1 over keys 0 .. past+T-1.
  torch::Tensor causal_mask(std::int64_t past, std::int64_t T, const torch::Tensor& like);
  torch::Tensor mask_;  // [n, n]: 0 on and below the diagonal, -inf above; built on first use
};
TORCH_MODULE(CausalSelfAttention);

class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const GPTConfig& c);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear c_fc{nullptr}, c_proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(MLP);

class BlockImpl : public torch::nn::Module {
 public:
  // `prior` builds the block's key prior when c.cstde.attention is on (required then).
  BlockImpl(const GPTConfig& c, int layer, const KeyPriorFactory& prior = {});
  // dependency: CSTDE's D of the previous layer on entry, this layer's on return (untouched
  // without CSTDE attention).
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor& dependency, KVCache* cache = nullptr,
                        int layer = 0, ForwardTrace* trace = nullptr);
  torch::nn::LayerNorm ln_1{nullptr}, ln_2{nullptr};
  CausalSelfAttention attn{nullptr};
  std::shared_ptr<KeyPriorImpl> dep;  // CSTDE only
  MLP mlp{nullptr};
  double dep_epsilon = 0;
};
TORCH_MODULE(Block);

class GPTImpl : public torch::nn::Module, public CausalLM {
 public:
  // `prior` builds each block's key prior; a config with model.cstde.attention on needs one
  // (zoo::make_gpt supplies CSTDE's), a plain config ignores it.
  explicit GPTImpl(const GPTConfig& c, const KeyPriorFactory& prior = {});
  // idx: [B, T] int64 -> logits [B, T, V]. With a cache, idx holds only the new positions.
  // A trace records each layer's D and head-averaged attention (slower: no fused attention).
  torch::Tensor forward(const torch::Tensor& idx, KVCache* cache = nullptr, ForwardTrace* trace = nullptr);
  // The same forward from token embeddings tok_emb [B, T, C] (what wte(idx) would give) instead of
  // ids: embedding-space attacks and HCMA's alignment perturb or replace that input.
  torch::Tensor forward_embeddings(const torch::Tensor& tok_emb, KVCache* cache = nullptr,
                                   ForwardTrace* trace = nullptr);
  // The residual stream h^layer [B, T, C] after `layer` blocks (0: the embeddings, n_layer: the
  // last block's output, before ln_f). HCMA's contextual statistics read it (METHODS.md §2a).
  torch::Tensor hidden_states(const torch::Tensor& idx, int layer);
  // Mean cross-entropy of next-token prediction (targets [B, T]).
  torch::Tensor loss(const torch::Tensor& idx, const torch::Tensor& targets);
  torch::Tensor output_weight();  // lm_head weight, or wte's when tied

  // Parameters that get weight decay (matrices of Linear layers and embeddings) and those that
  // do not (biases, LayerNorm), for AdamW's two groups. Disjoint, together all parameters.
  std::vector<torch::Tensor> decay_params();
  std::vector<torch::Tensor> no_decay_params();
  std::int64_t num_params();  // counts a tied matrix once
  const GPTConfig& config() const { return cfg; }

  // CausalLM (model/causal_lm.h): forward without a trace; block_size; vocab_size.
  torch::Tensor next_token_logits(const torch::Tensor& ids, KVCache* cache) override { return forward(ids, cache); }
  std::int64_t context_length() const override { return cfg.block_size; }
  std::int64_t vocabulary_rows() const override { return cfg.vocab_size; }
  torch::nn::Module& module() override { return *this; }
  // The embedding view (HCMA): wte, forward_embeddings, hidden_states.
  const char* arch() const override { return "gpt"; }
  torch::Tensor input_table() override { return wte->weight; }
  const char* input_table_name() const override { return "wte.weight"; }
  torch::Tensor output_matrix() override { return output_weight(); }
  bool tied_output() const override { return cfg.tied; }
  torch::Tensor logits_from_embeddings(const torch::Tensor& emb) override { return forward_embeddings(emb); }
  torch::Tensor residual_stream(const torch::Tensor& ids, int layer) override { return hidden_states(ids, layer); }
  torch::Tensor logits_from_residual(const torch::Tensor& h) override;  // ln_f, then the output matrix
  int num_layers() const override { return int(cfg.n_layer); }
  std::int64_t width() const override { return cfg.n_embd; }

  GPTConfig cfg;
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  std::vector<Block> blocks;  // the same modules as h, typed
  torch::nn::LayerNorm ln_f{nullptr};
  torch::nn::Linear lm_head{nullptr};  // only when !tied
};
TORCH_MODULE(GPT);

// GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2 * n_layer),
// zero biases, unit LayerNorm. Deterministic given torch's seed.
void init_gpt2_weights(GPT& model);
void init_gpt2_weights(GPTImpl& model);

}  // namespace structlm::model
