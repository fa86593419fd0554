// Mean cross-entropy of logits over a vocabulary, fused on the CPU for fp32 and bf16 logits:
// the training loss of every model here.
//
// torch's route under bf16 autocast wrote three fp32 [tokens, vocab] tensors and read them back:
// the widened logits, log-softmax's output and, in the backward, nll's scattered gradient, then
// log-softmax's gradient and its bf16 copy (2048 x 8192 logits: ~400 MB of traffic per step).
// Here the forward reads the logits once per row (max, then sum of exp from cache) and keeps
// one log-sum-exp per row; the backward writes softmax - onehot, scaled, straight into the
// logits' dtype. Measured by bench/ops_bench ("cross-entropy" lines). Other dtypes and devices
// take torch's cross_entropy.
#pragma once
#include <torch/torch.h>

namespace structlm::model {

// logits [N, V], targets [N] (int64; -100 = ignored, as torch's default ignore_index): the mean
// over the targets not ignored of log-sum-exp(logits_i) - logits_i[target_i], as an fp32 scalar
// (fp64 for fp64 logits). Differentiable in the logits. A target outside [0, V) is refused.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace structlm::model
