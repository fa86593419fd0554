#include "linalg/sparse.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/error.h"

namespace structlm::linalg {

using linalg::CsrMatrix;

namespace {

// Row boundaries splitting m's nonzeros into `parts` near-equal pieces: token rows are very
// unequal (a frequent token's row is dense, most rows hold a handful), so equal row counts would
// leave one thread with nearly all the work.
std::vector<std::int64_t> balanced_row_split(const CsrMatrix& m, std::int64_t parts) {
  std::vector<std::int64_t> b(parts + 1, m.rows);
  b[0] = 0;
  const std::int64_t nnz = static_cast<std::int64_t>(m.nnz());
  for (std::int64_t p = 1; p < parts; ++p) {
    std::int64_t target = nnz * p / parts;
    b[p] = std::max(b[p - 1], std::lower_bound(m.indptr.begin(), m.indptr.end(), target) - m.indptr.begin());
    b[p] = std::min(b[p], m.rows);
  }
  return b;
}

// The hot loop of every product: for each nonzero, an axpy of a row of x into a row of out.
// Compiled twice (AVX2+FMA and baseline) and picked at load time, since the build targets
// generic x86-64 and this loop is where the SVD's time goes.
__attribute__((target_clones("arch=haswell", "default"))) void gather_rows(
    const std::int64_t* indptr, const std::int32_t* indices, const float* values, const float* x, std::int64_t l,
    float* out, std::int64_t r0, std::int64_t r1, bool accumulate) {
  for (std::int64_t r = r0; r < r1; ++r) {
    float* __restrict o = out + r * l;
    if (!accumulate)
      for (std::int64_t j = 0; j < l; ++j) o[j] = 0.0f;
    std::int64_t k = indptr[r];
    // Two nonzeros per pass over the output row: half the loads and stores of `o`.
    for (; k + 1 < indptr[r + 1]; k += 2) {
      const float v0 = values[k], v1 = values[k + 1];
      const float* __restrict x0 = x + std::int64_t(indices[k]) * l;
      const float* __restrict x1 = x + std::int64_t(indices[k + 1]) * l;
      for (std::int64_t j = 0; j < l; ++j) o[j] += v0 * x0[j] + v1 * x1[j];
    }
    if (k < indptr[r + 1]) {
      const float v = values[k];
      const float* __restrict xr = x + std::int64_t(indices[k]) * l;
      for (std::int64_t j = 0; j < l; ++j) o[j] += v * xr[j];
    }
  }
}

torch::Tensor float_matrix(const torch::Tensor& t, std::int64_t rows, const char* what) {
  check(t.dim() == 2 && t.size(0) == rows, "sparse product", std::string(what) + " must have " +
                                                                  std::to_string(rows) + " rows");
  return t.to(torch::kFloat32).contiguous();
}

}  // namespace

void csr_times_dense(const CsrMatrix& m, const float* x, std::int64_t l, float* out, bool accumulate) {
  const std::int64_t parts = std::min<std::int64_t>(std::max<std::int64_t>(m.rows, 1), 8 * at::get_num_threads());
  const auto split = balanced_row_split(m, parts);
  at::parallel_for(0, parts, 1, [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p)
      gather_rows(m.indptr.data(), m.indices.data(), m.values.data(), x, l, out, split[p], split[p + 1], accumulate);
  });
}

SparseHStack::SparseHStack(std::vector<CsrMatrix> blocks) : blocks_(std::move(blocks)) {
  check(!blocks_.empty(), "sparse product", "a sparse stack needs at least one block");
  rows_ = blocks_[0].rows;
  for (const auto& b : blocks_) {
    check(b.rows == rows_, "sparse product", "stacked blocks must have the same number of rows");
    col_offset_.push_back(cols_);
    cols_ += b.cols;
    transposed_.push_back(linalg::transpose(b));
  }
}

std::size_t SparseHStack::nnz() const {
  std::size_t n = 0;
  for (const auto& b : blocks_) n += b.nnz();
  return n;
}

std::size_t SparseHStack::bytes() const {
  std::size_t n = 0;
  for (std::size_t b = 0; b < blocks_.size(); ++b) n += blocks_[b].bytes() + transposed_[b].bytes();
  return n;
}

torch::Tensor SparseHStack::matmul(const torch::Tensor& x_in) const {
  auto x = float_matrix(x_in, cols_, "the right factor of A·X");
  const std::int64_t l = x.size(1);
  auto out = torch::empty({rows_, l}, torch::kFloat32);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    csr_times_dense(blocks_[b], x.data_ptr<float>() + col_offset_[b] * l, l, out.data_ptr<float>(), b > 0);
  return out;
}

torch::Tensor SparseHStack::tmatmul(const torch::Tensor& y_in) const {
  auto y = float_matrix(y_in, rows_, "the right factor of Aᵀ·Y");
  const std::int64_t l = y.size(1);
  auto out = torch::empty({cols_, l}, torch::kFloat32);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    csr_times_dense(transposed_[b], y.data_ptr<float>(), l, out.data_ptr<float>() + col_offset_[b] * l, false);
  return out;
}

torch::Tensor SparseHStack::row_nnz() const {
  auto n = torch::zeros({rows_}, torch::kInt64);
  auto* p = n.data_ptr<std::int64_t>();
  for (const auto& b : blocks_)
    for (std::int64_t r = 0; r < rows_; ++r) p[r] += b.indptr[r + 1] - b.indptr[r];
  return n;
}

torch::Tensor SparseHStack::to_dense() const {
  auto d = torch::zeros({rows_, cols_}, torch::kFloat32);
  auto acc = d.accessor<float, 2>();
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    for (std::int64_t r = 0; r < rows_; ++r)
      for (std::int64_t k = blocks_[b].indptr[r]; k < blocks_[b].indptr[r + 1]; ++k)
        acc[r][col_offset_[b] + blocks_[b].indices[k]] = blocks_[b].values[k];
  return d;
}

}  // namespace structlm::linalg
