#include "linalg/randomized_svd.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace structlm::linalg {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

torch::Tensor orthonormal_basis(const torch::Tensor& y) { return std::get<0>(torch::linalg_qr(y, "reduced")); }

}  // namespace

TruncatedSvd randomized_svd(const SparseHStack& a, std::int64_t k, int oversample, int power_iters,
                            std::uint64_t seed) {
  const std::int64_t m = a.rows(), n = a.cols();
  check(k >= 1 && k <= std::min(m, n), "randomized SVD",
        "SVD rank " + std::to_string(k) + " must be in [1, " + std::to_string(std::min(m, n)) + "]");
  check(oversample >= 0 && power_iters >= 0, "randomized SVD", "oversample and power_iters must be >= 0");
  const std::int64_t l = std::min(k + oversample, std::min(m, n));
  TruncatedSvd out;
  auto timed = [&](auto product) {
    auto t = std::chrono::steady_clock::now();
    auto r = product();
    out.seconds_products += seconds_since(t);
    return r;
  };
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto omega = torch::randn({n, l}, gen, torch::kFloat32);
  auto q = orthonormal_basis(timed([&] { return a.matmul(omega); }));  // range of A·Ω ≈ A's top l directions
  omega = torch::Tensor();
  for (int it = 0; it < power_iters; ++it) {
    // Each round multiplies by A·Aᵀ, which raises the singular values to the power 2q + 1 and so
    // separates the wanted directions from the tail; QR after every product keeps the columns
    // from collapsing onto the top direction in float arithmetic.
    auto z = orthonormal_basis(timed([&] { return a.tmatmul(q); }));
    q = orthonormal_basis(timed([&] { return a.matmul(z); }));
  }
  // A ≈ Q·B with B = Qᵀ·A (l × n); the SVD of Bᵀ = Aᵀ·Q = W·Σ·Ṽᵀ gives B = Ṽ·Σ·Wᵀ, so
  // A ≈ (Q·Ṽ)·Σ·Wᵀ.
  auto bt = timed([&] { return a.tmatmul(q); });
  auto [w, s, vh] = torch::linalg_svd(bt, /*full_matrices=*/false);
  out.U = torch::matmul(q, vh.narrow(0, 0, k).t()).contiguous();
  out.S = s.narrow(0, 0, k).contiguous();
  return out;
}

}  // namespace structlm::linalg
