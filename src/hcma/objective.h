// HCMA's objective (docs/METHODS.md §2c), only E optimised:
//   L(E) = λ_nb · mean_t KL(P_ctx(·|t) ‖ P_E(·|t))                      neighbourhoods
//        + λ_h  · Σ_levels mean_c W2²(N(E_c), target_c) / e²            hierarchy
//        + λ_p  · mean_t ρ_t ‖E_t − E⁰_t‖² / e²                         proximity
// with e² = mean_t ‖E⁰_t‖², so the λ are free of the table's scale (docs/HCMA.md).
//  - Candidates j of token t: its k nearest tokens by smoothed context μ̃ inside its leaf's
//    parent cluster (the leaf itself when the depth is 1), never over all V: O(V·k·d) per step.
//  - μ̃_t = (n_t μ_t + κ m_leaf(t)) / (n_t + κ): rare tokens borrow their leaf's context.
//  - P_ctx(j|t) = softmax_j(−‖μ̃_t − μ̃_j‖² / τ_t), τ_t = tau · (mean candidate distance of t);
//    P_E(j|t) = softmax_j(cos(E_t, E_j) / τ_E).
//  - target_c: mean and diagonal spread of {[μ̃_t, 1]·A : t ∈ c}, A the least-squares map from
//    contextual means to embeddings fitted on the clustered (frequent) tokens; W2 between
//    diagonal Gaussians in closed form, ‖m₁ − m₂‖² + ‖s₁ − s₂‖².
//  - ρ_t = ρ_min + (1 − ρ_min) · n_t / (n_t + κ): frequent tokens move least.
// Switches of the second round (issue 15, docs/HCMA.md), each off by default: a trust region and
// frozen frequent rows (constrain / mask_gradient, applied by the loop around each step), targets
// fitted on μ̃ and with the members' spread or σ², and the KL term's token batch restricted to
// frequent tokens or weighted by frequency.
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>

#include "hcma/context_stats.h"
#include "hcma/hierarchy.h"

namespace structlm::hcma {

struct HcmaTermOptions {
  int neighbours = 64;      // k candidates
  double tau = 0.2;         // P_ctx temperature, relative to each token's mean candidate distance
  double tau_e = 0.1;       // P_E temperature on cosines
  double kappa = 20;        // smoothing of μ towards the leaf centroid, and ρ's half-point
  double rho_min = 0.05;    // proximity weight of a token never seen
  double lambda_nb = 1, lambda_h = 1, lambda_p = 1;
  std::int64_t token_batch = 256;  // tokens per step in the neighbourhood term
  // Issue 15's switches (docs/HCMA.md); the defaults are the first round's objective.
  double trust_radius = 0;            // r_t = trust_radius ‖E⁰_t‖ κ/(n_t + κ), projected after each step; 0: off
  std::int64_t freeze_min_count = 0;  // rows with n_t ≥ this never move; 0: none
  std::string target_fit = "raw";     // A fitted on raw μ ("raw") or on μ̃ ("smoothed")
  std::string target_spread = "mapped";  // "mapped", "members" (E⁰'s spread) or "sigma" (+ mapped σ²)
  std::string kl_batch = "uniform";   // "uniform", "frequent" (n_t ≥ n_min) or "weighted" (∝ n_t)
};

class HcmaObjective {
 public:
  // E0: the original input table [V, d]; everything the objective needs is precomputed here.
  HcmaObjective(const torch::Tensor& E0, const ContextStats& stats, const Hierarchy& hierarchy,
                const HcmaTermOptions& opt);
  // The weighted terms at E ("nb", "h", "p"), each a 0-dim tensor with a graph to E; the
  // neighbourhood term on a batch of tokens drawn from `gen`.
  std::map<std::string, torch::Tensor> terms(const torch::Tensor& E, torch::Generator& gen) const;
  // One optimisation step's work without an autograd graph over E: the weighted terms' values
  // (for the log) and their gradient added into `grad` [V, d]. The neighbourhood term runs
  // autograd on the gathered rows only; the hierarchy and proximity gradients are in closed form.
  // At GPT-2's size the graph's [V, d] intermediates would cost more than the terms themselves.
  // Draws the same batch as terms() from a generator in the same state. The hierarchy and
  // proximity values cost passes over E of their own: computed only when `values` is true.
  std::map<std::string, double> step(const torch::Tensor& E, torch::Generator& gen, torch::Tensor& grad,
                                     bool values = true) const;
  // The same over every token with candidates (no sampling), or over the first `max_tokens` of
  // them in a fixed shuffled order (0: all), for the report and the tests.
  std::map<std::string, torch::Tensor> full_terms(const torch::Tensor& E, std::int64_t max_tokens = 0) const;

  // Before the optimiser's step: zero the gradient of frozen rows (so an optimiser's moments stay
  // 0 there). After it: frozen rows back to E⁰ exactly, then every row projected onto its trust
  // region, E_t ← E⁰_t + (E_t − E⁰_t) min(1, r_t / ‖E_t − E⁰_t‖). Both on E's device; the number
  // of rows the projection shortened is returned. No-ops when both switches are off.
  void mask_gradient(torch::Tensor& grad) const;
  std::int64_t constrain(torch::Tensor& E) const;

  // Precomputed pieces, exposed for tests and the report.
  torch::Tensor smoothed_mu;  // μ̃ [V, d]
  torch::Tensor neighbours;   // [V, k] int64 candidate ids (a token's own id where padded)
  torch::Tensor valid;        // [V, k] bool
  torch::Tensor p_ctx;        // [V, k] float, rows sum to 1 over valid (0 elsewhere; all 0 without candidates)
  torch::Tensor has_neighbours;  // [V] bool
  torch::Tensor rho;          // [V]
  torch::Tensor frozen;       // [V] bool: n_t ≥ freeze_min_count (all false when off)
  torch::Tensor radius;       // [V] trust radius r_t (undefined when trust_radius is 0)
  torch::Tensor kl_pool;      // the tokens the KL term draws from (and averages over in full_terms)
  torch::Tensor map;          // A [d + 1, d]
  std::vector<torch::Tensor> target_mean, target_std;  // per level [C, d]
  double scale2 = 1;          // e²

 private:
  std::map<std::string, torch::Tensor> weighted(const torch::Tensor& E, const torch::Tensor& batch) const;
  torch::Tensor neighbourhood_kl(const torch::Tensor& E, const torch::Tensor& batch) const;
  torch::Tensor neighbourhood_kl_rows(const torch::Tensor& E, const torch::Tensor& batch) const;  // [B]
  torch::Tensor hierarchy_w2(const torch::Tensor& E) const;
  torch::Tensor draw_batch(torch::Generator& gen) const;
  HcmaTermOptions opt_;
  torch::Tensor E0_;
  std::vector<torch::Tensor> level_of_;  // per level: [V] cluster id
  std::vector<torch::Tensor> leaf_to_level_;  // per level: [leaves] the leaf's cluster at that level
  std::vector<torch::Tensor> level_size_;
  torch::Tensor sampleable_;             // ids with candidates
  torch::Tensor counts_;                 // [V] float n_t
  torch::Tensor kl_weight_;              // [kl_pool] sampling weights (kl_batch "weighted"), else undefined
  torch::Tensor frozen_ids_;             // ids of frozen rows
  mutable torch::Tensor E0_device_, radius_device_, frozen_device_;  // copies on E's device (constrain)
};

// W2² between diagonal Gaussians N(m1, diag s1²) and N(m2, diag s2²), summed over rows of [C, d]
// inputs: ‖m1 − m2‖² + ‖s1 − s2‖² per row. Exposed for tests.
torch::Tensor diagonal_w2_squared(const torch::Tensor& m1, const torch::Tensor& s1, const torch::Tensor& m2,
                                  const torch::Tensor& s2);

}  // namespace structlm::hcma
