// A truncated SVD of a large sparse matrix without ever forming it densely (Halko et al.).
#pragma once
#include <torch/torch.h>

#include <cstdint>

#include "linalg/sparse.h"

namespace structlm::linalg {

struct TruncatedSvd {
  torch::Tensor U;  // m × k, orthonormal columns
  torch::Tensor S;  // k, descending
  double seconds_products = 0;  // in the sparse products A·X and Aᵀ·Y (the rest: QR, small SVD)
};
// Halko, Martinsson & Tropp 2011, Algorithm 4.4 (randomized subspace iteration): a Gaussian sketch
// of k + oversample columns, power_iters rounds of A·Aᵀ with QR re-orthonormalisation between
// every product (so small singular directions are not lost to float rounding), then the exact
// SVD of the small projected matrix.
TruncatedSvd randomized_svd(const SparseHStack& a, std::int64_t k, int oversample, int power_iters,
                            std::uint64_t seed);

}  // namespace structlm::linalg
