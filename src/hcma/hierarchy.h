// HCMA's hierarchy (docs/METHODS.md §2b): recursive spherical k-means on the joint vectors
// [E_t / |E_t| , mu_t / |mu_t|] / sqrt(2) of the tokens seen at least n_min times, branching b,
// depth D. Rare and unseen tokens then join the leaf whose embedding centroid is nearest to their
// own embedding (cosine), so every token has a path c_1(t) .. c_D(t).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace structlm::hcma {

struct HierarchyOptions {
  int branching = 8;
  int depth = 3;
  std::int64_t min_count = 5;  // n_min: tokens clustered on their own contextual mean
  int iterations = 25;         // Lloyd iterations per split (stops early when no token moves)
  std::uint64_t seed = 1;
};

struct Hierarchy {
  int depth = 0;
  // path[t][l]: token t's cluster at level l (0-based; level 0 is the top split). Cluster ids are
  // numbered per level, 0 .. clusters(l) - 1, children of one parent consecutively.
  torch::Tensor path;                 // [V, depth] int64
  std::vector<torch::Tensor> parent;  // per level: [clusters(l)] int64 cluster id at level l-1 (level 0: all 0)
  std::vector<torch::Tensor> size;    // per level: [clusters(l)] int64 members, rare tokens included
  // Centroids of the clustered (frequent) members: the mean embedding and the mean contextual
  // state, per level [clusters(l), d]. A cluster of rare tokens only does not exist: clusters
  // are made from frequent tokens, rare ones only join leaves.
  std::vector<torch::Tensor> centroid_e, centroid_mu;
  torch::Tensor clustered;            // [V] bool: the token took part in the clustering (n_t >= n_min)
  std::int64_t clusters(int level) const { return size[std::size_t(level)].size(0); }
};

// E: [V, d] input embeddings, mu: [V, d] contextual means, counts: [V] occurrences.
// Needs at least one token with counts >= min_count. Deterministic in seed.
Hierarchy build_hierarchy(const torch::Tensor& E, const torch::Tensor& mu, const torch::Tensor& counts,
                          const HierarchyOptions& opt);

// The rare-token collapse check (issue 15): the mean cosine over all pairs of distinct selected
// rows that share a leaf, pooled over leaves (Σ_leaves Σ_{i≠j} cos / Σ_leaves n(n − 1)).
// E: [V, d]; leaf_of: [V] leaf ids; rows: [V] bool, the rows taken (e.g. n_t < n_min). Leaves with
// fewer than two selected rows add no pairs; pairs = 0 gives mean_cosine 0.
struct LeafCosine {
  double mean_cosine = 0;
  std::int64_t rows = 0, leaves = 0, pairs = 0;  // leaves: those with at least two selected rows
};
LeafCosine within_leaf_cosine(const torch::Tensor& E, const torch::Tensor& leaf_of, const torch::Tensor& rows);

// Spherical k-means of the rows of X (unit vectors, [N, D]) into at most k clusters: k-means++
// seeding, then assignment by the largest cosine and centroids renormalised. Returns [N] int64
// labels 0 .. k' - 1 (k' = min(k, N), every label used). Exposed for tests.
torch::Tensor spherical_kmeans(const torch::Tensor& X, int k, int iterations, std::uint64_t seed);

}  // namespace structlm::hcma
