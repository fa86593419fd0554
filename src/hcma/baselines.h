// The baselines HCMA must beat (docs/METHODS.md §2d), on the same frozen model. Closed-form
// post-processing of the input table:
//  - All-but-the-top (Mu & Viswanath 2018): subtract the mean row, then remove the projections on
//    the top D principal directions (D ≈ d/100, at least 1).
//  - Whitening (ZCA): subtract the mean, multiply by Σ^{-1/2}; the rows are then rescaled so
//    their mean norm is the original's (a frozen model reads inputs at its training scale).
//  - Shrink to centroid: E* = (1 − a) E + a m_leaf, m_leaf the token's leaf centroid in embedding
//    space of HCMA's hierarchy (the method, which builds the hierarchy, is in hcma/align_hcma.cpp).
// The trained baselines (embedding-only fine-tuning by LM loss, with embedding noise, with cosine
// regularisation) are loss terms of the shared loop in hcma/align_loop.h.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <vector>

#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/precision.h"

namespace structlm::hcma {

torch::Tensor all_but_the_top(const torch::Tensor& E, int directions);
torch::Tensor whiten(const torch::Tensor& E);
int default_abtt_directions(std::int64_t d);  // max(1, round(d / 100))

// The shrink-to-centroid baseline: E*_t = (1 − a) E_t + a centroids[leaf_of[t]] (E: [V, d],
// leaf_of: [V] int64, centroids: [leaves, d], a in [0, 1]), in E's dtype.
torch::Tensor shrink_to_centroid(const torch::Tensor& E, const torch::Tensor& leaf_of, const torch::Tensor& centroids,
                                 double a);

// The mean next-token loss (nats) of `net` read through input table E (its other weights as they
// are) over the first n tokens of `tokens` (0: all) in non-overlapping windows of T, every target
// once (data::for_each_window_batch), no gradients, under `precision` (logits in fp32): the
// clean loss a shrink is matched by (issue 15, item 2).
double loss_with_input_table(model::CausalLM& net, const torch::Tensor& E, const data::TokenStream& tokens,
                             std::size_t n, std::int64_t T, int batch_size, model::Precision precision);

// Bisection for the x in [lo, hi] where an increasing f(x) meets `target`: stops as soon as
// |f(x) − target| <= tol or after max_iter evaluations of the midpoint. f(lo) >= target gives lo,
// f(hi) <= target gives hi (reached says whether either is within tol). Every evaluation is kept.
struct Bisection {
  double x = 0, value = 0, target = 0;
  bool reached = false;
  std::vector<std::pair<double, double>> trace;  // (x, f(x)) in the order evaluated
};
Bisection bisect_increasing(const std::function<double(double)>& f, double target, double lo, double hi, double tol,
                            int max_iter);

// Mean cosine similarity over all pairs of distinct rows (Gao et al. 2019's regulariser), exact
// in O(V·d): Σ_{i≠j} cos_ij = ‖Σ_i ê_i‖² − V.
torch::Tensor mean_pairwise_cosine(const torch::Tensor& E);

}  // namespace structlm::hcma
