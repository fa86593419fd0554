#include "hcma/objective.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace structlm::hcma {

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

// Per-cluster mean and standard deviation of the rows of X grouped by `cluster` ([V] ids): the
// targets, computed once.
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
  check(opt.trust_radius >= 0, "hcma", "trust_radius must be non-negative");
  check(opt.freeze_min_count >= 0, "hcma", "freeze_min_count must be non-negative");
  check(opt.target_fit == "raw" || opt.target_fit == "smoothed", "hcma", "target_fit must be raw or smoothed");
  check(opt.target_spread == "mapped" || opt.target_spread == "members" || opt.target_spread == "sigma", "hcma",
        "target_spread must be mapped, members or sigma");
  check(opt.kl_batch == "uniform" || opt.kl_batch == "frequent" || opt.kl_batch == "weighted", "hcma",
        "kl_batch must be uniform, frequent or weighted");
  E0_ = E0_in.detach().to(torch::kCPU, torch::kFloat32).clone();
  const std::int64_t V = E0_.size(0), d = E0_.size(1);
  const int leaf = h.depth - 1;
  const auto counts = stats.counts.to(torch::kFloat32);
  counts_ = counts;
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
  // The KL term's tokens: every token with candidates (the first round), only the clustered ones
  // (n_t ≥ n_min: rare rows are then moved by the KL only as other tokens' candidates), or drawn
  // with probability ∝ n_t (unseen tokens never).
  kl_pool = sampleable_;
  if (opt.kl_batch == "frequent") kl_pool = sampleable_.masked_select(h.clustered.index_select(0, sampleable_));
  if (opt.kl_batch == "weighted") {
    kl_pool = sampleable_.masked_select(counts.index_select(0, sampleable_) > 0);
    kl_weight_ = counts.index_select(0, kl_pool).to(torch::kFloat64);
  }

  // A: least squares from [μ, 1] to E on the clustered tokens (ridge-regularised a little, so a
  // calibration set with fewer frequent tokens than dimensions still has a unique map).
  auto fit = h.clustered.nonzero().flatten();
  // "smoothed": on the same μ̃ the map is applied to below (the first round fitted raw μ and
  // applied the map to μ̃, whose rare rows sit nearer their leaf's centroid).
  const auto& fit_mu = opt.target_fit == "smoothed" ? smoothed_mu : stats.mean;
  auto X = torch::cat({fit_mu.index_select(0, fit), torch::ones({fit.numel(), 1})}, 1).to(torch::kFloat64);
  auto Y = E0_.index_select(0, fit).to(torch::kFloat64);
  auto XtX = torch::mm(X.t(), X);
  const double ridge = 1e-3 * XtX.trace().item<double>() / double(d + 1);
  map = torch::linalg_solve(XtX + ridge * torch::eye(d + 1, torch::kFloat64), torch::mm(X.t(), Y)).to(torch::kFloat32);
  auto Z = torch::mm(torch::cat({smoothed_mu, torch::ones({V, 1})}, 1), map);
  // "sigma": each token's own contextual spread mapped by A (diagonal σ² through the linear part,
  // dimensions taken as independent): Var(xA)_j = Σ_i A_ij² σ²_i, added to the spread of the
  // mapped means.
  torch::Tensor mapped_var;
  if (opt.target_spread == "sigma") {
    check(stats.var.defined() && stats.var.sizes() == stats.mean.sizes(), "hcma", "target_spread sigma needs sigma^2_t");
    mapped_var = torch::mm(stats.var.to(torch::kFloat32), map.slice(0, 0, d).pow(2));
  }
  for (int level = 0; level < h.depth; ++level) {
    // Each leaf's ancestor at this level (any member of the leaf tells it: the tree is nested).
    auto anc = torch::zeros({h.clusters(leaf)}, torch::kLong);
    anc.index_put_({h.path.select(1, leaf)}, h.path.select(1, level));
    leaf_to_level_.push_back(anc);
    level_of_.push_back(h.path.select(1, level).contiguous());
    level_size_.push_back(h.size[std::size_t(level)]);
    auto [m, s] = cluster_moments(Z, level_of_.back(), level_size_.back());
    // "members": the spread the cluster's rows have in E⁰ (rare members included, as the
    // hierarchy term measures E's spread), so the W2 term does not contract clusters by itself.
    if (opt.target_spread == "members") s = cluster_moments(E0_, level_of_.back(), level_size_.back()).second;
    if (opt.target_spread == "sigma") {
      auto n = level_size_.back().to(torch::kFloat32).clamp_min(1).unsqueeze(1);
      auto extra = torch::zeros({level_size_.back().size(0), d}).index_add(0, level_of_.back(), mapped_var) / n;
      s = (s * s + extra).sqrt();
    }
    target_mean.push_back(m);
    target_std.push_back(s);
  }
  rho = opt.rho_min + (1 - opt.rho_min) * counts / (counts + opt.kappa).clamp_min(1e-12);

  frozen = opt.freeze_min_count > 0 ? stats.counts >= opt.freeze_min_count : torch::zeros({V}, torch::kBool);
  frozen_ids_ = frozen.nonzero().flatten();
  if (opt.trust_radius > 0) {
    // κ/(n_t + κ): the whole radius for a token never seen, shrinking as 1/n_t with frequency.
    auto share = torch::where(counts > 0, opt.kappa / (counts + opt.kappa).clamp_min(1e-12), torch::ones_like(counts));
    radius = opt.trust_radius * E0_.norm(2, 1) * share;
  }
}

void HcmaObjective::mask_gradient(torch::Tensor& grad) const {
  if (frozen_ids_.numel() == 0) return;
  torch::NoGradGuard no_grad;
  grad.index_fill_(0, frozen_ids_.to(grad.device()), 0);
}

std::int64_t HcmaObjective::constrain(torch::Tensor& E) const {
  if (frozen_ids_.numel() == 0 && !radius.defined()) return 0;
  torch::NoGradGuard no_grad;
  if (!E0_device_.defined() || E0_device_.device() != E.device()) {
    E0_device_ = E0_.to(E.device());
    frozen_device_ = frozen_ids_.to(E.device());
    if (radius.defined()) radius_device_ = radius.to(E.device());
  }
  if (frozen_ids_.numel() > 0) E.index_copy_(0, frozen_device_, E0_device_.index_select(0, frozen_device_));
  if (!radius.defined()) return 0;
  auto D = E - E0_device_;
  auto norm = D.norm(2, 1);
  auto over = norm > radius_device_;
  const auto n = over.sum().item<std::int64_t>();
  if (n == 0) return 0;
  // Only the rows outside their region are rewritten; every other row keeps its bits.
  auto ids = over.nonzero().flatten();
  auto scale = (radius_device_.index_select(0, ids) / norm.index_select(0, ids)).unsqueeze(1);
  E.index_copy_(0, ids, E0_device_.index_select(0, ids) + D.index_select(0, ids) * scale);
  return n;
}

torch::Tensor HcmaObjective::neighbourhood_kl(const torch::Tensor& E, const torch::Tensor& batch) const {
  if (batch.numel() == 0) return torch::zeros({}, E.options());
  return neighbourhood_kl_rows(E, batch).mean();
}

torch::Tensor HcmaObjective::neighbourhood_kl_rows(const torch::Tensor& E, const torch::Tensor& batch) const {
  // Only the rows the batch touches are normalised and gathered: a pass over all of E (50k x 768
  // at GPT-2's size) would cost more than the whole term.
  auto unit = [](const torch::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  auto nb = neighbours.index_select(0, batch);                           // [B, k]
  auto ok = valid.index_select(0, batch);
  auto rows = unit(E.index_select(0, batch)).unsqueeze(1);                // [B, 1, d]
  auto cands = unit(E.index_select(0, nb.flatten())).view({nb.size(0), nb.size(1), -1});  // [B, k, d]
  auto cos = (rows * cands).sum(-1);
  auto logits = (cos / opt_.tau_e).masked_fill(ok.logical_not(), -std::numeric_limits<float>::infinity());
  auto log_pe = torch::log_softmax(logits, 1);
  auto p = p_ctx.index_select(0, batch);
  // KL(P_ctx ‖ P_E) over the valid candidates; terms with P_ctx = 0 contribute 0.
  return torch::where(p > 0, p * (p.clamp_min(1e-30).log() - log_pe), torch::zeros_like(p)).sum(1);
}

torch::Tensor HcmaObjective::hierarchy_w2(const torch::Tensor& E) const {
  // First and second moments per leaf in one pass over E; every coarser level adds up its
  // leaves' sums (the hierarchy is nested), so E is read once per step, not once per level.
  const std::size_t leaf = level_of_.size() - 1;
  const auto d = E.size(1);
  auto s1 = torch::zeros({level_size_[leaf].size(0), d}, E.options()).index_add(0, level_of_[leaf], E);
  auto s2 = torch::zeros({level_size_[leaf].size(0), d}, E.options()).index_add(0, level_of_[leaf], E * E);
  torch::Tensor total = torch::zeros({}, E.options());
  for (std::size_t l = 0; l <= leaf; ++l) {
    const auto C = level_size_[l].size(0);
    auto a = l == leaf ? s1 : torch::zeros({C, d}, E.options()).index_add(0, leaf_to_level_[l], s1);
    auto b = l == leaf ? s2 : torch::zeros({C, d}, E.options()).index_add(0, leaf_to_level_[l], s2);
    auto n = level_size_[l].to(E.scalar_type()).clamp_min(1).unsqueeze(1);
    auto mean = a / n;
    auto std = (b / n - mean * mean).clamp_min(0).add(1e-12).sqrt();  // epsilon: sqrt stays differentiable at 0
    auto w2 = diagonal_w2_squared(mean, std, target_mean[l], target_std[l]);
    total = total + w2.masked_select(level_size_[l] > 0).mean();
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

torch::Tensor HcmaObjective::draw_batch(torch::Generator& gen) const {
  if (kl_weight_.defined()) {
    if (kl_pool.numel() == 0) return kl_pool;
    return kl_pool.index_select(0, torch::multinomial(kl_weight_, opt_.token_batch, /*replacement=*/true, gen));
  }
  if (kl_pool.numel() <= opt_.token_batch) return kl_pool;
  return kl_pool.index_select(0, torch::randint(kl_pool.numel(), {opt_.token_batch}, gen, torch::kLong));
}

std::map<std::string, torch::Tensor> HcmaObjective::terms(const torch::Tensor& E, torch::Generator& gen) const {
  return weighted(E, draw_batch(gen));
}

std::map<std::string, double> HcmaObjective::step(const torch::Tensor& E_in, torch::Generator& gen, torch::Tensor& grad,
                                                  bool want_values) const {
  const auto E = E_in.detach();
  std::map<std::string, double> values;
  const auto batch = draw_batch(gen);

  // Neighbourhoods: autograd on the gathered rows (a leaf of their own), scattered back once.
  {
    auto nb = neighbours.index_select(0, batch);
    auto ids = torch::cat({batch, nb.flatten()});
    auto rows = E.index_select(0, ids).requires_grad_(true);
    torch::Tensor kl;
    {
      torch::AutoGradMode on(true);
      auto unit = rows / rows.norm(2, -1, true).clamp_min(1e-12);
      auto q = unit.slice(0, 0, batch.numel()).unsqueeze(1);
      auto c = unit.slice(0, batch.numel()).view({nb.size(0), nb.size(1), -1});
      auto logits = ((q * c).sum(-1) / opt_.tau_e).masked_fill(valid.index_select(0, batch).logical_not(),
                                                              -std::numeric_limits<float>::infinity());
      auto log_pe = torch::log_softmax(logits, 1);
      auto p = p_ctx.index_select(0, batch);
      kl = opt_.lambda_nb * torch::where(p > 0, p * (p.clamp_min(1e-30).log() - log_pe), torch::zeros_like(p)).sum(1).mean();
      if (batch.numel() > 0) kl.backward();
    }
    if (batch.numel() > 0) grad.index_add_(0, ids, rows.grad());
    values["nb"] = batch.numel() > 0 ? kl.item<double>() : 0.0;
  }

  // Hierarchy: with m_c and s_c a cluster's mean and spread, ∂m_c/∂E_t = 1/n_c and
  // ∂s_c/∂E_t = (E_t − m_c)/(n_c s_c), so each token's gradient is α[c] + β[c] ⊙ E_t with
  // α = 2/n (m − m*) − β ⊙ m and β = 2/n (s − s*)/s, summed over its clusters at every level
  // (each level's W2² is a mean over its C_l clusters, the sum over levels divided by e²).
  {
    const std::size_t leaf = level_of_.size() - 1;
    const auto d = E.size(1), L = level_size_[leaf].size(0);
    auto s1 = torch::zeros({L, d}, E.options()).index_add_(0, level_of_[leaf], E);
    auto s2 = torch::zeros({L, d}, E.options()).index_add_(0, level_of_[leaf], E * E);
    auto alpha = torch::zeros({L, d}, E.options()), beta = torch::zeros({L, d}, E.options());
    double total = 0;
    for (std::size_t l = 0; l <= leaf; ++l) {
      const auto C = level_size_[l].size(0);
      auto a = l == leaf ? s1 : torch::zeros({C, d}, E.options()).index_add_(0, leaf_to_level_[l], s1);
      auto b = l == leaf ? s2 : torch::zeros({C, d}, E.options()).index_add_(0, leaf_to_level_[l], s2);
      auto n = level_size_[l].to(E.scalar_type()).clamp_min(1).unsqueeze(1);
      auto used = (level_size_[l] > 0).to(E.scalar_type()).unsqueeze(1);
      const double clusters = used.sum().item<double>();
      auto mean = a / n;
      auto std = (b / n - mean * mean).clamp_min(0).add(1e-12).sqrt();
      if (want_values)
        total += (diagonal_w2_squared(mean, std, target_mean[l], target_std[l]) * used.squeeze(1)).sum().item<double>() / clusters;
      const double w = opt_.lambda_h / (clusters * scale2);
      auto be = used * (2 * w / n) * (std - target_std[l]) / std;
      auto al = used * (2 * w / n) * (mean - target_mean[l]) - be * mean;
      // Down to the leaves: every leaf carries its ancestors' coefficients.
      alpha += l == leaf ? al : al.index_select(0, leaf_to_level_[l]);
      beta += l == leaf ? be : be.index_select(0, leaf_to_level_[l]);
    }
    grad.add_(alpha.index_select(0, level_of_[leaf]));
    grad.addcmul_(beta.index_select(0, level_of_[leaf]), E);
    if (want_values) values["h"] = opt_.lambda_h * total / scale2;
  }

  // Proximity: ∂/∂E_t of mean_t ρ_t ‖E_t − E⁰_t‖² / e² is 2 ρ_t (E_t − E⁰_t) / (V e²).
  {
    auto diff = E - E0_;
    const double V = double(E.size(0));
    if (want_values) values["p"] = opt_.lambda_p * (rho * diff.pow(2).sum(1)).sum().item<double>() / (V * scale2);
    grad.addcmul_(diff, (rho * (2 * opt_.lambda_p / (V * scale2))).unsqueeze(1));
  }
  return values;
}

std::map<std::string, torch::Tensor> HcmaObjective::full_terms(const torch::Tensor& E_in, std::int64_t max_tokens) const {
  // In chunks: all tokens at once would gather V x k rows of E.
  torch::NoGradGuard no_grad;
  const auto E = E_in.detach();
  auto t = weighted(E, torch::empty({0}, torch::kLong));
  auto tokens = kl_pool;  // the tokens the KL term is a mean over
  if (max_tokens > 0 && tokens.numel() > max_tokens) {
    auto g = at::make_generator<at::CPUGeneratorImpl>(12345);  // the same sample for every call
    tokens = tokens.index_select(0, torch::randperm(tokens.numel(), g, torch::kLong).slice(0, 0, max_tokens));
  }
  double kl = 0, weight = 0;
  const auto n = tokens.numel();
  for (std::int64_t s = 0; s < n; s += 1024) {
    auto chunk = tokens.slice(0, s, std::min<std::int64_t>(n, s + 1024));
    if (kl_weight_.defined()) {  // "weighted": the mean the frequency-weighted batches estimate
      auto w = counts_.index_select(0, chunk).to(torch::kFloat64);
      kl += (neighbourhood_kl_rows(E, chunk).to(torch::kFloat64) * w).sum().item<double>();
      weight += w.sum().item<double>();
    } else {
      kl += neighbourhood_kl(E, chunk).item<double>() * double(chunk.numel());
      weight += double(chunk.numel());
    }
  }
  t["nb"] = torch::tensor(weight > 0 ? opt_.lambda_nb * kl / weight : 0.0, E.options());
  return t;
}

}  // namespace structlm::hcma
