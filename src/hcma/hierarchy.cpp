#include "hcma/hierarchy.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"

namespace structlm::hcma {

namespace {

torch::Tensor normalize_rows(const torch::Tensor& x) {
  return x / x.norm(2, 1, true).clamp_min(1e-12);
}

}  // namespace

torch::Tensor spherical_kmeans(const torch::Tensor& X, int k, int iterations, std::uint64_t seed) {
  const std::int64_t N = X.size(0);
  check(N > 0 && k > 0, "hierarchy", "k-means needs points and k > 0");
  k = int(std::min<std::int64_t>(k, N));
  if (k == 1) return torch::zeros({N}, torch::kLong);
  SplitMix64 rng(seed);

  // k-means++ on the cosine distance 1 - cos: spread-out seeds, so a split does not start with
  // two centroids in one dense region. Deterministic given the seed.
  std::vector<std::int64_t> seeds = {std::int64_t(rng.below(std::uint64_t(N)))};
  torch::Tensor dist = (1 - torch::mv(X, X[seeds[0]])).clamp_min(0);
  while (int(seeds.size()) < k) {
    auto d = dist.to(torch::kFloat64).contiguous();
    const double* p = d.data_ptr<double>();
    double total = 0;
    for (std::int64_t i = 0; i < N; ++i) total += p[i];
    std::int64_t pick = 0;
    if (total <= 0) {
      // Every point coincides with a seed: the remaining ones are duplicates; take unused rows.
      pick = std::int64_t(seeds.size());
    } else {
      double r = rng.uniform() * total, acc = 0;
      for (pick = 0; pick < N - 1; ++pick) {
        acc += p[pick];
        if (acc > r) break;
      }
    }
    seeds.push_back(pick);
    dist = torch::minimum(dist, (1 - torch::mv(X, X[pick])).clamp_min(0));
  }
  torch::Tensor C = X.index_select(0, torch::tensor(seeds, torch::kLong)).clone();

  torch::Tensor labels = torch::full({N}, -1, torch::kLong);
  for (int it = 0; it < iterations; ++it) {
    auto next = torch::mm(X, C.t()).argmax(1);
    const bool moved = !next.equal(labels);
    labels = next;
    auto sums = torch::zeros_like(C).index_add_(0, labels, X);
    auto counts = torch::bincount(labels, {}, k);
    // An empty cluster is re-seeded with the point farthest from its centroid, so k stays k.
    auto empty = (counts == 0).nonzero().flatten();
    if (empty.numel() > 0) {
      auto own = (X * C.index_select(0, labels)).sum(1);
      auto far = own.argsort();  // least similar first
      for (std::int64_t e = 0; e < empty.numel(); ++e) {
        const auto c = empty[e].item<std::int64_t>();
        const auto i = far[e].item<std::int64_t>();
        labels[i] = c;
      }
      sums = torch::zeros_like(C).index_add_(0, labels, X);
    }
    C = normalize_rows(sums);
    if (!moved && empty.numel() == 0) break;
  }
  // Relabel densely in order of first appearance so children are numbered deterministically.
  auto lab = labels.contiguous();
  std::vector<std::int64_t> map(std::size_t(k), -1);
  std::int64_t next_id = 0;
  auto* l = lab.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < N; ++i) {
    auto& m = map[std::size_t(l[i])];
    if (m < 0) m = next_id++;
    l[i] = m;
  }
  return lab;
}

Hierarchy build_hierarchy(const torch::Tensor& E_in, const torch::Tensor& mu_in, const torch::Tensor& counts,
                          const HierarchyOptions& opt) {
  check(opt.branching >= 2, "hierarchy", "branching must be at least 2");
  check(opt.depth >= 1, "hierarchy", "depth must be at least 1");
  const auto E = E_in.detach().to(torch::kCPU, torch::kFloat32);
  const auto mu = mu_in.detach().to(torch::kCPU, torch::kFloat32);
  const std::int64_t V = E.size(0), d = E.size(1);
  check(mu.size(0) == V && counts.size(0) == V, "hierarchy", "embeddings, contextual means and counts disagree in size");

  auto clustered = counts >= opt.min_count;
  auto members = clustered.nonzero().flatten();
  const std::int64_t M = members.size(0);
  check(M > 0, "hierarchy",
        "no token occurs " + std::to_string(opt.min_count) + " times in the calibration corpus (lower n_min or give more text)");

  // Equal weight to where the token sits in the embedding table and where the model uses it.
  auto X = torch::cat({normalize_rows(E.index_select(0, members)), normalize_rows(mu.index_select(0, members))}, 1) /
           std::sqrt(2.0);

  Hierarchy h;
  h.depth = opt.depth;
  h.clustered = clustered;
  std::vector<torch::Tensor> member_path(std::size_t(opt.depth));  // per level: [M] cluster of each member
  torch::Tensor current = torch::zeros({M}, torch::kLong);          // cluster at the previous level
  std::int64_t n_current = 1;
  for (int level = 0; level < opt.depth; ++level) {
    torch::Tensor next = torch::empty({M}, torch::kLong);
    std::vector<std::int64_t> parents;
    std::int64_t n_next = 0;
    for (std::int64_t c = 0; c < n_current; ++c) {
      auto idx = (current == c).nonzero().flatten();
      if (idx.numel() == 0) continue;
      // A cluster too small to split into `branching` parts of two keeps going as one child.
      const int k = int(std::min<std::int64_t>(opt.branching, std::max<std::int64_t>(1, idx.numel() / 2)));
      auto labels = spherical_kmeans(X.index_select(0, idx), k, opt.iterations,
                                     mix_seed(opt.seed, std::uint64_t(level), std::uint64_t(c)));
      const std::int64_t kk = labels.max().item<std::int64_t>() + 1;
      next.index_copy_(0, idx, labels + n_next);
      for (std::int64_t j = 0; j < kk; ++j) parents.push_back(c);
      n_next += kk;
    }
    member_path[std::size_t(level)] = next;
    h.parent.push_back(torch::tensor(parents, torch::kLong));
    current = next;
    n_current = n_next;
  }

  // Leaves' embedding centroids (normalised mean of the members' unit embeddings); every token
  // that was not clustered joins the leaf nearest to it by cosine.
  const int leaf = opt.depth - 1;
  const std::int64_t L = n_current;
  auto En = normalize_rows(E);
  auto leaf_dir = normalize_rows(torch::zeros({L, d}).index_add_(0, member_path[std::size_t(leaf)], En.index_select(0, members)));
  torch::Tensor leaf_of = torch::empty({V}, torch::kLong);
  leaf_of.index_copy_(0, members, member_path[std::size_t(leaf)]);
  auto others = clustered.logical_not().nonzero().flatten();
  for (std::int64_t s = 0; s < others.numel(); s += 8192) {
    auto chunk = others.slice(0, s, std::min<std::int64_t>(others.numel(), s + 8192));
    leaf_of.index_copy_(0, chunk, torch::mm(En.index_select(0, chunk), leaf_dir.t()).argmax(1));
  }

  // Paths from the leaves up through the parents.
  h.path = torch::empty({V, opt.depth}, torch::kLong);
  torch::Tensor at = leaf_of;
  for (int level = leaf; level >= 0; --level) {
    h.path.select(1, level).copy_(at);
    if (level > 0) at = h.parent[std::size_t(level)].index_select(0, at);
  }
  auto cl_f = clustered.to(torch::kFloat32).unsqueeze(1);
  for (int level = 0; level < opt.depth; ++level) {
    auto p = h.path.select(1, level);
    const std::int64_t C = h.parent[std::size_t(level)].size(0);
    h.size.push_back(torch::bincount(p, {}, C));
    auto n = torch::zeros({C, 1}).index_add_(0, p, cl_f).clamp_min(1);
    h.centroid_e.push_back(torch::zeros({C, d}).index_add_(0, p, E * cl_f) / n);
    h.centroid_mu.push_back(torch::zeros({C, d}).index_add_(0, p, mu * cl_f) / n);
  }
  return h;
}

LeafCosine within_leaf_cosine(const torch::Tensor& E, const torch::Tensor& leaf_of, const torch::Tensor& rows) {
  torch::NoGradGuard no_grad;
  LeafCosine out;
  auto ids = rows.to(torch::kCPU).nonzero().flatten();
  out.rows = ids.numel();
  if (out.rows < 2) return out;
  auto X = E.detach().to(torch::kCPU, torch::kFloat64).index_select(0, ids);
  auto norm = X.norm(2, 1, true);
  auto U = torch::where(norm > 0, X / norm.clamp_min(1e-300), torch::zeros_like(X));  // a zero row: cosine 0
  auto lab = leaf_of.to(torch::kCPU).index_select(0, ids);
  const auto L = lab.max().item<std::int64_t>() + 1;
  // Σ_{i≠j} u_i·u_j = ‖Σ u‖² − Σ ‖u‖², per leaf.
  auto S = torch::zeros({L, X.size(1)}, torch::kFloat64).index_add(0, lab, U);
  auto self = torch::zeros({L}, torch::kFloat64).index_add(0, lab, U.pow(2).sum(1));
  auto n = torch::bincount(lab, {}, L).to(torch::kFloat64);
  auto pairs = n * (n - 1);
  const double total = (S.pow(2).sum(1) - self).masked_select(n >= 2).sum().item<double>();
  out.pairs = std::int64_t(pairs.sum().item<double>());
  out.leaves = (n >= 2).sum().item<std::int64_t>();
  out.mean_cosine = out.pairs > 0 ? total / double(out.pairs) : 0.0;
  return out;
}

}  // namespace structlm::hcma
