#include "report/pca.h"

#include <cmath>

namespace structlm::report {

Projection2D pca_2d(const std::vector<std::vector<double>>& rows) {
  Projection2D p;
  const std::size_t n = rows.size();
  if (n == 0) return p;
  const std::size_t d = rows[0].size();
  std::vector<double> mean(d, 0);
  for (const auto& r : rows)
    for (std::size_t j = 0; j < d; ++j) mean[j] += r[j] / n;
  // Covariance (d × d, symmetric).
  std::vector<double> cov(d * d, 0);
  std::vector<double> c(d);
  for (const auto& r : rows) {
    for (std::size_t j = 0; j < d; ++j) c[j] = r[j] - mean[j];
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = a; b < d; ++b) cov[a * d + b] += c[a] * c[b];
  }
  double trace = 0;
  for (std::size_t a = 0; a < d; ++a) {
    for (std::size_t b = a; b < d; ++b) cov[b * d + a] = cov[a * d + b] /= double(n);
    trace += cov[a * d + a];
  }

  std::vector<std::vector<double>> axes;
  for (int k = 0; k < 2; ++k) {
    std::vector<double> v(d), w(d);
    for (std::size_t j = 0; j < d; ++j) v[j] = 1.0 + 0.01 * double((j * 7919 + k * 104729) % 101);
    double lambda = 0;
    for (int it = 0; it < 1000; ++it) {
      for (std::size_t a = 0; a < d; ++a) {
        double s = 0;
        for (std::size_t b = 0; b < d; ++b) s += cov[a * d + b] * v[b];
        w[a] = s;
      }
      for (const auto& u : axes) {  // deflation: stay orthogonal to the axes already found
        double dot = 0;
        for (std::size_t j = 0; j < d; ++j) dot += w[j] * u[j];
        for (std::size_t j = 0; j < d; ++j) w[j] -= dot * u[j];
      }
      double norm = 0;
      for (double x : w) norm += x * x;
      norm = std::sqrt(norm);
      if (norm < 1e-300) break;
      double change = 0;
      for (std::size_t j = 0; j < d; ++j) {
        double nv = w[j] / norm;
        change += std::fabs(nv - v[j]);
        v[j] = nv;
      }
      lambda = norm;
      if (change < 1e-12 * double(d)) break;
    }
    std::size_t big = 0;
    for (std::size_t j = 1; j < d; ++j)
      if (std::fabs(v[j]) > std::fabs(v[big])) big = j;
    if (v[big] < 0)
      for (double& x : v) x = -x;
    p.explained[k] = trace > 0 ? lambda / trace : 0;
    axes.push_back(v);
  }
  for (const auto& r : rows) {
    double a = 0, b = 0;
    for (std::size_t j = 0; j < d; ++j) {
      a += (r[j] - mean[j]) * axes[0][j];
      b += (r[j] - mean[j]) * axes[1][j];
    }
    p.x.push_back(a);
    p.y.push_back(b);
  }
  return p;
}

}  // namespace structlm::report
