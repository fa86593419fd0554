// Two-component PCA for the embedding projection plot: small samples (≤ a few thousand rows), so
// power iteration on the covariance is plenty and needs no linear-algebra library.
#pragma once
#include <vector>

namespace structlm::report {

struct Projection2D {
  std::vector<double> x, y;        // each row's coordinates on the first two principal axes
  double explained[2] = {0, 0};    // fraction of the total variance along each axis
};

// Deterministic: fixed start vectors, and each axis's sign is chosen so its largest-magnitude
// loading is positive. Rows must share one length.
Projection2D pca_2d(const std::vector<std::vector<double>>& rows);

}  // namespace structlm::report
