// Compressed sparse row matrices, and their transpose. Header-only and torch-free: the torch-free
// libraries (data's co-occurrence counter) build them, linalg's products (sparse.h) read them,
// and the sanitizer build, which has no torch, compiles them with data.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace structlm::linalg {

// Row r's entries are indices/values[indptr[r], indptr[r + 1]), columns strictly increasing, no
// explicit zeros unless a producer says otherwise.
struct CsrMatrix {
  std::int64_t rows = 0, cols = 0;
  std::vector<std::int64_t> indptr;  // rows + 1 entries
  std::vector<std::int32_t> indices;
  std::vector<float> values;

  std::size_t nnz() const { return indices.size(); }

  // 0 where no entry (binary search in the row).
  float at(std::int64_t r, std::int64_t c) const {
    auto b = indices.begin() + indptr[r], e = indices.begin() + indptr[r + 1];
    auto it = std::lower_bound(b, e, static_cast<std::int32_t>(c));
    return (it != e && *it == c) ? values[it - indices.begin()] : 0.0f;
  }

  std::vector<double> row_sums() const {
    std::vector<double> s(rows, 0.0);
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t k = indptr[r]; k < indptr[r + 1]; ++k) s[r] += values[k];
    return s;
  }

  std::vector<double> col_sums() const {
    std::vector<double> s(cols, 0.0);
    for (std::size_t k = 0; k < nnz(); ++k) s[indices[k]] += values[k];
    return s;
  }

  // Memory held by the three arrays.
  std::size_t bytes() const {
    return indptr.size() * sizeof(std::int64_t) + indices.size() * sizeof(std::int32_t) + values.size() * sizeof(float);
  }
};

// Bᵀ, built by a counting sort over columns (stable, so B's column order becomes row order).
inline CsrMatrix transpose(const CsrMatrix& m) {
  CsrMatrix t;
  t.rows = m.cols;
  t.cols = m.rows;
  t.indptr.assign(t.rows + 1, 0);
  for (auto c : m.indices) ++t.indptr[c + 1];
  std::partial_sum(t.indptr.begin(), t.indptr.end(), t.indptr.begin());
  t.indices.resize(m.nnz());
  t.values.resize(m.nnz());
  std::vector<std::int64_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (std::int64_t r = 0; r < m.rows; ++r)
    for (std::int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      std::int64_t dst = next[m.indices[k]]++;
      t.indices[dst] = static_cast<std::int32_t>(r);
      t.values[dst] = m.values[k];
    }
  return t;
}

}  // namespace structlm::linalg
