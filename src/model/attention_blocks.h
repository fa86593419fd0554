// Block-causal attention: the full-sequence causal attention computed by query blocks, so the
// masked upper triangle of the [T, T] scores is never formed (issue 12).
//
// Query block [s, e) attends to keys [0, e) only: its scores q[s:e] k[:e]^T carry the causal mask
// on their diagonal [s, e) x [s, e) square alone, and every row's whole support lies inside its
// block, so the softmax of a block row is the softmax of the full row (no online softmax): the
// result is the unsplit attention's, up to the order of floating-point sums. The matrix products
// and the probabilities step (softmax, CSTDE's log-prior softmax, dropout) run on
// (n_blocks + 1) / (2 n_blocks) of the full map. The products have their own backward (two
// autograd functions), which writes the gradients of q, k and v once, where autograd's slicing
// would zero-fill and add a full-size gradient per block.
//
// A process setting, not a model key: it changes how the attention is executed, not what it
// computes. Off by default: on the bench model (T 256, README, Speed on CPUs) the split measured
// 3-4 % slower in bf16 and within noise of the unsplit attention in fp32 (two paired runs: 1.016,
// 0.970): with libtorch 1.13's oneDNN, the second product per block, the slices of k and v it
// copies and the concatenations cost about what the skipped triangle saves. An explicit
// STRUCTLM_ATTENTION_BLOCK=N turns it on with query blocks of N rows (0: off), for long contexts
// or another machine to measure; set_attention_block overrides it (tests, benches).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace structlm::model {

// A block size to try (bench.sh's forced-split side): at T 256, 128 rows ran faster than 64.
inline constexpr std::int64_t kSuggestedAttentionBlock = 128;

// The query block in use (0 = off): the override, else STRUCTLM_ATTENTION_BLOCK (read at first
// use), else 0.
std::int64_t attention_block();
// Overrides the environment for the rest of the process (0 = off; negative = back to the
// environment's or the default).
void set_attention_block(std::int64_t rows);

// The probabilities of query rows [start, end) from their scores `att` ([BH, end - start, end],
// masked with -inf above the diagonal): softmax, or a log-prior softmax over D's rows [start, end)
// and keys [0, end); dropout included.
using BlockProbabilities = std::function<torch::Tensor(const torch::Tensor& att, std::int64_t start, std::int64_t end)>;

// y = concat over blocks [s, e) of probs(mask[s:e, :e] + scale * q[:, s:e] k[:, :e]^T) v[:, :e].
// q, k, v: [BH, T, hd] (keys and queries at the same positions: no past); mask: at least
// [T, T], -inf above the diagonal, 0 elsewhere; block >= 1. Under CPU autocast q, k, v and the
// probabilities are taken in autocast's dtype, as the unsplit baddbmm and bmm would be.
// Differentiable in q, k, v and whatever probs depends on.
torch::Tensor block_causal_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& mask, double scale, std::int64_t block,
                                     const BlockProbabilities& probs);

}  // namespace structlm::model
