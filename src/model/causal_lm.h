// What evaluation and sampling need from a decoder, whatever its architecture (GPT-2 style,
// model/gpt.h; the Llama family, model/llama.h): next-token logits for a batch of ids, with an
// optional KV cache for incremental decoding, the context it was built for and its vocabulary
// rows. eval::evaluate and eval::sample_* take this, so `structlm eval` and `structlm sample`
// serve every architecture with one code path. It also gives the embedding view HCMA works
// through (hcma/, docs/HCMA.md): the input table, the forward from input embeddings, the residual
// stream after a layer, the output matrix and whether it is the input table. Training and CSTDE
// use the concrete classes.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace structlm::model {

// Per-layer keys and values of the positions seen so far, for incremental decoding.
struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer: [B, heads (GPT) or kv heads (Llama), t, head_dim]
  std::vector<torch::Tensor> dep_v; // per layer, CSTDE only: the scorer's keys [B, t, r]
  std::int64_t length() const { return k.empty() || !k[0].defined() ? 0 : k[0].size(2); }
  void clear() { k.clear(); v.clear(); dep_v.clear(); }
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;
  // ids [B, T] int64 -> logits [B, T, V]. With a cache, ids hold only the new positions, which
  // continue after the cached ones; the cache grows by T.
  virtual torch::Tensor next_token_logits(const torch::Tensor& ids, KVCache* cache) = 0;
  // The longest sequence the model was built for (learned positions: a hard limit; rotary: the
  // trained context, max_position_embeddings).
  virtual std::int64_t context_length() const = 0;
  virtual std::int64_t vocabulary_rows() const = 0;
  // The torch module behind it (device, train/eval mode, parameters).
  virtual torch::nn::Module& module() = 0;

  // The embedding view (HCMA: only the input table changes; every other tensor stays as it is).
  // "gpt" or "llama", as a checkpoint's metadata "arch" (model/checkpoint.h).
  virtual const char* arch() const = 0;
  // The input embedding table [V, d]: the parameter itself (a view sharing its storage), and its
  // name among the module's named_parameters() and in checkpoints.
  virtual torch::Tensor input_table() = 0;
  virtual const char* input_table_name() const = 0;
  // The output matrix [V, d] the last hidden state is multiplied by: lm_head's ("lm_head.weight"
  // when untied), or the input table itself when tied.
  virtual torch::Tensor output_matrix() = 0;
  virtual bool tied_output() const = 0;
  // The forward from input embeddings emb [B, T, d] (what input_table()[ids] would give) to
  // logits [B, T, V], positions 0 .. T-1, no cache: from the table's own rows it is the forward
  // from ids, bit for bit.
  virtual torch::Tensor logits_from_embeddings(const torch::Tensor& emb) = 0;
  // The residual stream [B, T, d] after `layer` blocks of ids [B, T] (0: the input embeddings;
  // num_layers(): the last block's output, before the final norm).
  virtual torch::Tensor residual_stream(const torch::Tensor& ids, int layer) = 0;
  // Logits [..., V] from residual-stream states [..., d] after the last layer: the final norm,
  // then the output matrix (residual_stream(ids, num_layers()) gives the forward's logits).
  virtual torch::Tensor logits_from_residual(const torch::Tensor& h) = 0;
  virtual int num_layers() const = 0;
  virtual std::int64_t width() const = 0;  // d, the residual stream's width
};

}  // namespace structlm::model
