// CSTDE's dependency scorer (docs/METHODS.md §1b): for every position i, a soft distribution
// D_i over the earlier positions j <= i it depends on, computed once per layer and shared by the
// layer's heads, which add beta_h * log(D_ij + eps) to their attention logits.
//
//   u_i = x_i U,  v_j = x_j V            (U, V: C x r, no bias; x = the layer's LN'd input)
//   s_ij = u_i . v_j / sqrt(r) + b(bucket(i - j))   for j <= i
//   (model.cstde.scorer "distance": s_ij = b(bucket(i - j)) alone, no U and V: the recency
//   control; model.cstde.prior_trainable false freezes b)
//   D^new_i = softmax_j(s_ij)
//   D^l = D^{l-1} + gamma_l (D^new - D^{l-1}),  gamma_l = sigmoid(carry_logit_l)
//
// The first layer has no carry (D^1 = D^new of layer 1), and "no carry" is gamma = 1 everywhere;
// in both cases the carry logit does not exist. Each row of D depends only on the same row of the
// previous layer's D, so incremental decoding needs only the keys' v_j in the cache.
//
// It plugs into the model as its key prior (model/key_prior.h); dependency_prior() is the factory
// that zoo::make_gpt hands the GPT when model.cstde.attention is on.
#pragma once
#include <torch/torch.h>

#include "model/config.h"
#include "model/key_prior.h"

namespace structlm::cstde {

// T5's unidirectional relative-position bucket of a distance n = i - j >= 0: exact for
// n < buckets / 2, then log-spaced up to max_distance; farther distances share the last bucket.
std::int64_t distance_bucket(std::int64_t n, std::int64_t buckets, std::int64_t max_distance);

// Whether a parameter of a GPT is one of CSTDE's own, by its name: the scorer's h.N.dep.* (U, V,
// the distance bias, the carry logit) and the gates h.N.attn.dep_beta. The trainer gives these
// their own learning-rate multiplier and decay rule (train/optimizer.h, param_groups).
bool is_cstde_parameter(const std::string& name);

// model.cstde.prior_init "log_distance": the distance bias that makes D_ij proportional to
// 1 / (1 + i - j) at init (METHODS.md §1b, b(k) = -log(1 + k)). Bucket k's value is the mean of
// -log(1 + n) over the distances n < max(block_size, max_distance + 1) it holds (exactly
// -log(1 + n) for the exact buckets); a bucket no such distance reaches (never used) takes the
// value of the nearest reached bucket below it. Non-increasing in k.
std::vector<double> log_distance_prior(std::int64_t buckets, std::int64_t max_distance, std::int64_t block_size);

class DependencyScorerImpl : public model::KeyPriorImpl {
 public:
  // `carries`: whether this layer mixes in the previous layer's D (not the first layer, and
  // carry switched on).
  DependencyScorerImpl(const model::GPTConfig& c, bool carries);
  // x: [B, T, C], positions past .. past + T - 1 (past = what the cache already holds).
  // prev: D^{l-1} for the same queries [B, T, past + T], undefined in the first layer.
  // Returns D^l: [B, T, past + T], rows sum to 1, zero above the diagonal.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& prev, model::KVCache* cache = nullptr,
                        int layer = 0) override;
  torch::Tensor gamma() const;  // sigmoid(carry_logit); undefined when the layer does not carry
  // model.cstde.prior_init: rel_bias = log_distance_prior(...) or zeros. No generator draws.
  void init_parameters() override;

  torch::nn::Linear u{nullptr}, v{nullptr};  // null with scorer "distance"
  torch::Tensor rel_bias;     // [buckets]
  torch::Tensor carry_logit;  // [1], only when carrying

 private:
  // rel_bias[bucket(i - j)] for j <= i and -inf above the diagonal, for queries past .. past+T-1.
  torch::Tensor bias_and_mask(std::int64_t past, std::int64_t T);
  std::int64_t rank_, buckets_, max_distance_, block_size_;
  std::string prior_init_;
  torch::Tensor bucket_index_;  // [n, n] int64 bucket of (i, j), built once
  torch::Tensor upper_mask_;    // [n, n] bool, true above the diagonal
};
TORCH_MODULE(DependencyScorer);

// The model's key-prior factory for CSTDE: layer l's scorer carries when l > 0 and
// model.cstde.carry is on.
model::KeyPriorFactory dependency_prior();

}  // namespace structlm::cstde
