// The baselines HCMA must beat (docs/METHODS.md §2d), on the same frozen model. Closed-form
// post-processing of the input table:
//  - All-but-the-top (Mu & Viswanath 2018): subtract the mean row, then remove the projections on
//    the top D principal directions (D ≈ d/100, at least 1).
//  - Whitening (ZCA): subtract the mean, multiply by Σ^{-1/2}; the rows are then rescaled so
//    their mean norm is the original's (a frozen model reads inputs at its training scale).
// The trained baselines (embedding-only fine-tuning by LM loss, with embedding noise, with cosine
// regularisation) are loss terms of the shared loop in hcma/align_loop.h.
#pragma once
#include <torch/torch.h>

namespace structlm::hcma {

torch::Tensor all_but_the_top(const torch::Tensor& E, int directions);
torch::Tensor whiten(const torch::Tensor& E);
int default_abtt_directions(std::int64_t d);  // max(1, round(d / 100))

// Mean cosine similarity over all pairs of distinct rows (Gao et al. 2019's regulariser), exact
// in O(V·d): Σ_{i≠j} cos_ij = ‖Σ_i ê_i‖² − V.
torch::Tensor mean_pairwise_cosine(const torch::Tensor& E);

}  // namespace structlm::hcma
