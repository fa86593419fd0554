// What evaluation and sampling need from a decoder, whatever its architecture (GPT-2 style,
// model/gpt.h; the Llama family, model/llama.h): next-token logits for a batch of ids, with an
// optional KV cache for incremental decoding, the context it was built for and its vocabulary
// rows. Training, CSTDE and HCMA use the concrete classes; eval::evaluate and eval::sample_*
// take this, so `structlm eval` and `structlm sample` serve every architecture with one code path.
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
};

}  // namespace structlm::model
