// Sparse × dense products on CSR matrices (linalg/csr.h): the kernels behind CSTDE's
// randomized SVD. Written by hand because libtorch 1.13's sparse CSR products are neither
// deterministic across thread counts nor parallel on CPU; these are both (row gathers only).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "linalg/csr.h"

namespace structlm::linalg {

// A = [blocks[0] | blocks[1] | ...] (same row count), kept with each block's transpose so that
// A·X and Aᵀ·Y are both row gathers: parallel without write conflicts, and the same bits for any
// number of threads.
class SparseHStack {
 public:
  explicit SparseHStack(std::vector<linalg::CsrMatrix> blocks);
  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  std::size_t nnz() const;
  std::size_t bytes() const;
  torch::Tensor matmul(const torch::Tensor& x) const;    // A·X, X: cols × l float32
  torch::Tensor tmatmul(const torch::Tensor& y) const;   // Aᵀ·Y, Y: rows × l float32
  torch::Tensor row_nnz() const;                         // int64 [rows]
  torch::Tensor to_dense() const;                        // tests only

 private:
  std::vector<linalg::CsrMatrix> blocks_, transposed_;
  std::vector<std::int64_t> col_offset_;
  std::int64_t rows_ = 0, cols_ = 0;
};

// out[r, :] = Σ_k m.values[k] · x[m.indices[k], :] over row r (+= when accumulate), out and x
// row-major float32 with l columns; rows split across torch's threads by equal nonzeros.
void csr_times_dense(const linalg::CsrMatrix& m, const float* x, std::int64_t l, float* out, bool accumulate);

}  // namespace structlm::linalg
