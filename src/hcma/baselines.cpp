#include "hcma/baselines.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace structlm::hcma {

int default_abtt_directions(std::int64_t d) { return int(std::max<std::int64_t>(1, std::llround(double(d) / 100.0))); }

torch::Tensor all_but_the_top(const torch::Tensor& E_in, int directions) {
  const auto E = E_in.detach().to(torch::kFloat64);
  check(directions >= 0 && directions < E.size(1), "abtt", "directions must be in [0, d)");
  auto X = E - E.mean(0, true);
  if (directions > 0) {
    // Principal directions of the centred table: the top right-singular vectors.
    auto svd = torch::linalg_svd(X, /*full_matrices=*/false);
    auto U = std::get<2>(svd).slice(0, 0, directions).t();  // [d, D]
    X = X - torch::mm(torch::mm(X, U), U.t());
  }
  return X.to(E_in.scalar_type());
}

torch::Tensor whiten(const torch::Tensor& E_in) {
  const auto E = E_in.detach().to(torch::kFloat64);
  check(E.size(0) > 1, "whiten", "needs at least two rows");
  auto X = E - E.mean(0, true);
  auto cov = torch::mm(X.t(), X) / double(E.size(0) - 1);
  auto eig = torch::linalg_eigh(cov);
  auto vals = std::get<0>(eig), vecs = std::get<1>(eig);
  // Directions of (numerically) zero variance are left at zero instead of blown up.
  auto inv_sqrt = torch::where(vals > 1e-10 * vals.max(), vals.rsqrt(), torch::zeros_like(vals));
  auto W = torch::mm(vecs * inv_sqrt.unsqueeze(0), vecs.t());
  auto Y = torch::mm(X, W);
  const double want = E.norm(2, 1).mean().item<double>(), have = Y.norm(2, 1).mean().item<double>();
  if (have > 0) Y = Y * (want / have);
  return Y.to(E_in.scalar_type());
}

torch::Tensor shrink_to_centroid(const torch::Tensor& E, const torch::Tensor& leaf_of, const torch::Tensor& centroids,
                                 double a) {
  check(a >= 0 && a <= 1, "shrink", "a must be in [0, 1]");
  check(leaf_of.dim() == 1 && leaf_of.size(0) == E.size(0), "shrink", "one leaf per row");
  check(centroids.dim() == 2 && centroids.size(1) == E.size(1), "shrink", "centroids must be [leaves, d]");
  const auto X = E.detach().to(torch::kFloat64);
  auto m = centroids.detach().to(torch::kFloat64).index_select(0, leaf_of.to(torch::kLong));
  return ((1 - a) * X + a * m).to(E.scalar_type());
}

torch::Tensor mean_pairwise_cosine(const torch::Tensor& E) {
  const double V = double(E.size(0));
  check(V > 1, "cosreg", "needs at least two rows");
  auto s = (E / E.norm(2, 1, true).clamp_min(1e-12)).sum(0);
  return (s.pow(2).sum() - V) / (V * (V - 1));
}

}  // namespace structlm::hcma
