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

double loss_with_input_table(model::CausalLM& net, const torch::Tensor& E, const data::TokenStream& tokens,
                             std::size_t n, std::int64_t T, int batch_size, model::Precision precision) {
  namespace F = torch::nn::functional;
  torch::NoGradGuard no_grad;
  if (n == 0 || n + 1 > tokens.size()) n = tokens.size() - 1;
  check(n >= 1, "shrink", "the matching split holds fewer than 2 tokens");
  const auto table = E.detach().to(net.input_table().device(), torch::kFloat32);
  double sum = 0;
  std::int64_t count = 0;
  data::for_each_window_batch(tokens, n, T, batch_size, 1,
                              [&](std::int64_t rows, std::int64_t len, const std::vector<std::int64_t>& ids) {
                                auto b = torch::from_blob(const_cast<std::int64_t*>(ids.data()), {rows, len + 1}, torch::kLong)
                                             .to(table.device());
                                torch::Tensor logits;
                                {
                                  model::AutocastGuard autocast(precision, table.device());
                                  logits = net.logits_from_embeddings(F::embedding(b.slice(1, 0, len), table));
                                }
                                logits = logits.to(torch::kFloat32);
                                auto loss = F::cross_entropy(logits.reshape({-1, logits.size(-1)}), b.slice(1, 1).reshape({-1}),
                                                             F::CrossEntropyFuncOptions().reduction(torch::kSum));
                                sum += loss.item<double>();
                                count += rows * len;
                              });
  return sum / double(count);
}

Bisection bisect_increasing(const std::function<double(double)>& f, double target, double lo, double hi, double tol,
                            int max_iter) {
  check(lo <= hi && tol >= 0 && max_iter >= 1, "bisection", "needs lo <= hi, tol >= 0 and max_iter >= 1");
  Bisection b;
  b.target = target;
  auto eval = [&](double x) {
    const double v = f(x);
    b.trace.emplace_back(x, v);
    return v;
  };
  auto done = [&](double x, double v) {
    b.x = x;
    b.value = v;
    b.reached = std::abs(v - target) <= tol;
    return b;
  };
  const double flo = eval(lo);
  if (flo >= target || std::abs(flo - target) <= tol) return done(lo, flo);
  const double fhi = eval(hi);
  if (fhi <= target || std::abs(fhi - target) <= tol) return done(hi, fhi);
  double best_x = lo, best_v = flo;
  for (int i = 0; i < max_iter; ++i) {
    const double mid = 0.5 * (lo + hi), v = eval(mid);
    if (std::abs(v - target) < std::abs(best_v - target)) best_x = mid, best_v = v;
    if (std::abs(v - target) <= tol) break;
    (v < target ? lo : hi) = mid;
  }
  return done(best_x, best_v);
}

}  // namespace structlm::hcma
