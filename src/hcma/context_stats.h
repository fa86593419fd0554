// HCMA's contextual manifold (docs/METHODS.md §2a): where the frozen model actually uses each
// token. One pass of the model over a calibration stream; for every token type t, the number of
// occurrences n_t, and the mean mu_t and diagonal variance sigma^2_t of its residual-stream states
// h^layer at its positions.
#pragma once
#include <torch/torch.h>

#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/gpt.h"

namespace structlm::hcma {

struct ContextStats {
  int layer = 0;
  std::int64_t tokens = 0;  // positions scanned
  torch::Tensor counts;     // [V] int64: n_t
  torch::Tensor mean;       // [V, d] float32: mu_t (0 where n_t = 0)
  torch::Tensor var;        // [V, d] float32: sigma^2_t (0 where n_t < 2)
};

// Non-overlapping windows of the model's context over the first `max_tokens` tokens (0: all);
// sums in float64 so millions of states add up exactly enough. layer < 0: the middle,
// n_layer / 2 (rounded up, so a 1-layer model uses its block's output).
// Any architecture, through its embedding view (model/causal_lm.h: residual_stream, num_layers).
// context: the windows' length (0: the model's context_length()).
ContextStats collect_context_stats(model::CausalLM& model, const data::TokenStream& stream, int layer,
                                   std::size_t max_tokens = 0, int batch_size = 8, std::int64_t context = 0);
ContextStats collect_context_stats(model::GPT& model, const data::TokenStream& stream, int layer,
                                   std::size_t max_tokens = 0, int batch_size = 8);

int default_layer(int n_layer);
int default_layer(const model::GPTConfig& c);

}  // namespace structlm::hcma
