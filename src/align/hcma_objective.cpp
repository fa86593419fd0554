#include "align/hcma_objective.h"

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace structlm::align {

namespace F = torch::nn::functional;

torch::Tensor diagonal_w2_squared(const torch::Tensor& m1, const torch::Tensor& s1, const torch::Tensor& m2,
                                  const torch::Tensor& s2) {
  return (m1 - m2).pow(2).sum(-1) + (s1 - s2).pow(2).sum(-1);
}

namespace {

// Squared distances between the rows of a [n, d] and b [m, d].
torch::Tensor squared_distances(const torch::Tensor& a, const torch::Tensor& b) {
  auto d = a.pow(2).sum(1, true) + b.pow(2).sum(1).unsqueeze(0) - 2 * torch::mm(a, b.t());
  return d.clamp_min(0);
}

// Per-cluster mean and standard deviation of the rows of X grouped by `cluster` ([V] ids).
std::pair<torch::Tensor, torch::Tensor> cluster_moments(const torch::Tensor& X, const torch::Tensor& cluster,
                                                        const torch::Tensor& size) {
  const auto C = size.size(0);
  auto n = size.to(X.scalar_type()).clamp_min(1).unsqueeze(1);
  auto mean = torch::zeros({C, X.size(1)}, X.options()).index_add(0, cluster, X) / n;
  auto sq = torch::zeros({C, X.size(1)}, X.options()).index_add(0, cluster, X * X) / n;
  // The epsilon keeps sqrt differentiable for a one-member cluster (variance exactly 0).
  auto std = (sq - mean * mean).clamp_min(0).add(1e-12).sqrt();
  return {mean, std};
}

}  // namespace

HcmaObjective::HcmaObjective(const torch::Tensor& E0_in, const ContextStats& stats, const Hierarchy& h,
                             const HcmaTermOptions& opt)
    : opt_(opt) {
  torch::NoGradGuard no_grad;
  check(opt.neighbours >= 1, "hcma", "neighbours must be at least 1");
  check(opt.tau > 0 && opt.tau_e > 0, "hcma", "temperatures must be positive");
  check(opt.kappa >= 0, "hcma", "kappa must be non-negative");
  check(opt.token_batch >= 1, "hcma", "token batch must be at least 1");
  E0_ = E0_in.detach().to(torch::kCPU, torch::kFloat32).clone();
  const std::int64_t V = E0_.size(0), d = E0_.size(1);
  const int leaf = h.depth - 1;
  const auto counts = stats.counts.to(torch::kFloat32);
  scale2 = E0_.pow(2).sum(1).mean().item<double>();
  check(scale2 > 0, "hcma", "the embedding table is all zeros");

  // μ̃: the token's own contextual mean, shrunk towards its leaf's when it was seen rarely.
  auto leaf_of = h.path.select(1, leaf);
  auto n = counts.unsqueeze(1);
  smoothed_mu = (n * stats.mean + opt.kappa * h.centroid_mu[std::size_t(leaf)].index_select(0, leaf_of)) /
                (n + opt.kappa).clamp_min(1e-12);

  // Candidates: the k nearest by μ̃ inside the pool (leaf's parent, or the leaf at depth 1).
  const int pool_level = std::max(0, leaf - 1);
  auto pool_of = h.path.select(1, pool_level);
  const std::int64_t P = h.clusters(pool_level), k = opt.neighbours;
  neighbours = torch::arange(V, torch::kLong).unsqueeze(1).repeat({1, k});
  valid = torch::zeros({V, k}, torch::kBool);
  p_ctx = torch::zeros({V, k});
  auto order = pool_of.argsort();
  auto sorted_pool = pool_of.index_select(0, order).contiguous();
  auto pool_sizes = torch::bincount(pool_of, {}, P).contiguous();
  const auto* ps = pool_sizes.data_ptr<std::int64_t>();
  std::int64_t offset = 0;
  for (std::int64_t c = 0; c < P; ++c) {
    const std::int64_t m = ps[c];
    auto members = order.slice(0, offset, offset + m);
    offset += m;
    if (m < 2) continue;
    const std::int64_t kk = std::min<std::int64_t>(k, m - 1);
    auto mu_m = smoothed_mu.index_select(0, members);
    for (std::int64_t s = 0; s < m; s += 1024) {  // row chunks: a pool can hold thousands of tokens
      const auto e = std::min<std::int64_t>(m, s + 1024);
      auto dist = squared_distances(mu_m.slice(0, s, e), mu_m);
      // Exclude the token itself.
      auto self = torch::arange(s, e, torch::kLong);
      dist.index_put_({torch::arange(e - s, torch::kLong), self}, std::numeric_limits<float>::infinity());
      auto top = dist.topk(kk, 1, /*largest=*/false);
      auto dvals = std::get<0>(top), didx = std::get<1>(top);
      auto ids = members.index_select(0, didx.flatten()).view({e - s, kk});
      auto rows = members.slice(0, s, e);
      // τ_t from the token's own candidate distances: the scale of μ differs across the manifold.
      auto tau_t = (opt.tau * dvals.mean(1, true)).clamp_min(1e-12);
      auto p = torch::softmax(-dvals / tau_t, 1);
      neighbours.index_put_({rows, torch::indexing::Slice(0, kk)}, ids);
      valid.index_put_({rows, torch::indexing::Slice(0, kk)}, true);
      p_ctx.index_put_({rows, torch::indexing::Slice(0, kk)}, p);
    }
  }
  has_neighbours = valid.any(1);
  sampleable_ = has_neighbours.nonzero().flatten();

  // A: least squares from [μ, 1] to E on the clustered tokens (ridge-regularised a little, so a
  // calibration set with fewer frequent tokens than dimensions still has a unique map).
  auto fit = h.clustered.nonzero().flatten();
  auto X = torch::cat({stats.mean.index_select(0, fit), torch::ones({fit.numel(), 1})}, 1).to(torch::kFloat64);
  auto Y = E0_.index_select(0, fit).to(torch::kFloat64);
  auto XtX = torch::mm(X.t(), X);
  const double ridge = 1e-3 * XtX.trace().item<double>() / double(d + 1);
  map = torch::linalg_solve(XtX + ridge * torch::eye(d + 1, torch::kFloat64), torch::mm(X.t(), Y)).to(torch::kFloat32);
  auto Z = torch::mm(torch::cat({smoothed_mu, torch::ones({V, 1})}, 1), map);
  for (int level = 0; level < h.depth; ++level) {
    level_of_.push_back(h.path.select(1, level).contiguous());
    level_size_.push_back(h.size[std::size_t(level)]);
    auto [m, s] = cluster_moments(Z, level_of_.back(), level_size_.back());
    target_mean.push_back(m);
    target_std.push_back(s);
  }
  rho = opt.rho_min + (1 - opt.rho_min) * counts / (counts + opt.kappa).clamp_min(1e-12);
}

torch::Tensor HcmaObjective::neighbourhood_kl(const torch::Tensor& E, const torch::Tensor& batch) const {
  if (batch.numel() == 0) return torch::zeros({}, E.options());
  auto En = E / E.norm(2, 1, true).clamp_min(1e-12);
  auto nb = neighbours.index_select(0, batch);                           // [B, k]
  auto ok = valid.index_select(0, batch);
  auto cos = (En.index_select(0, batch).unsqueeze(1) * En.index_select(0, nb.flatten()).view({nb.size(0), nb.size(1), -1})).sum(-1);
  auto logits = (cos / opt_.tau_e).masked_fill(ok.logical_not(), -std::numeric_limits<float>::infinity());
  auto log_pe = torch::log_softmax(logits, 1);
  auto p = p_ctx.index_select(0, batch);
  // KL(P_ctx ‖ P_E) over the valid candidates; terms with P_ctx = 0 contribute 0.
  auto kl = torch::where(p > 0, p * (p.clamp_min(1e-30).log() - log_pe), torch::zeros_like(p)).sum(1);
  return kl.mean();
}

torch::Tensor HcmaObjective::hierarchy_w2(const torch::Tensor& E) const {
  torch::Tensor total = torch::zeros({}, E.options());
  for (std::size_t l = 0; l < level_of_.size(); ++l) {
    auto [m, s] = cluster_moments(E, level_of_[l], level_size_[l]);
    auto w2 = diagonal_w2_squared(m, s, target_mean[l], target_std[l]);
    auto used = level_size_[l] > 0;
    total = total + w2.masked_select(used).mean();
  }
  return total / scale2;
}

std::map<std::string, torch::Tensor> HcmaObjective::weighted(const torch::Tensor& E, const torch::Tensor& batch) const {
  std::map<std::string, torch::Tensor> t;
  t["nb"] = opt_.lambda_nb * neighbourhood_kl(E, batch);
  t["h"] = opt_.lambda_h * hierarchy_w2(E);
  t["p"] = opt_.lambda_p * (rho * (E - E0_).pow(2).sum(1)).mean() / scale2;
  return t;
}

std::map<std::string, torch::Tensor> HcmaObjective::terms(const torch::Tensor& E, torch::Generator& gen) const {
  torch::Tensor batch = sampleable_;
  if (sampleable_.numel() > opt_.token_batch)
    batch = sampleable_.index_select(0, torch::randint(sampleable_.numel(), {opt_.token_batch}, gen, torch::kLong));
  return weighted(E, batch);
}

std::map<std::string, torch::Tensor> HcmaObjective::full_terms(const torch::Tensor& E) const {
  return weighted(E, sampleable_);
}

}  // namespace structlm::align
