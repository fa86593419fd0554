// CSTDE structured embedding initialisation: PPMI, randomized SVD, rescaling (see the header).
#include "model/structured_init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/platform.h"
#include "data/shard.h"

namespace structlm::model {

using data::CsrMatrix;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void say(const StructuredInitOptions& o, const char* fmt, double a, double b = 0, double c = 0) {
  if (!o.progress) return;
  std::fprintf(stderr, "structured init: ");
  std::fprintf(stderr, fmt, a, b, c);
  std::fprintf(stderr, "\n");
}

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
  check(t.dim() == 2 && t.size(0) == rows, "structured init", std::string(what) + " must have " +
                                                                  std::to_string(rows) + " rows");
  return t.to(torch::kFloat32).contiguous();
}

torch::Tensor orthonormal_basis(const torch::Tensor& y) { return std::get<0>(torch::linalg_qr(y, "reduced")); }

}  // namespace

json StructuredInitStats::to_json() const {
  return json{{"tokens", tokens},
              {"pairs", pairs},
              {"nnz_counts", nnz_counts},
              {"nnz_ppmi_left", nnz_ppmi_left},
              {"nnz_ppmi_right", nnz_ppmi_right},
              {"rows_structured", rows_structured},
              {"rows_random", rows_random},
              {"seconds_count", seconds_count},
              {"seconds_ppmi", seconds_ppmi},
              {"seconds_svd", seconds_svd},
              {"seconds_svd_products", seconds_svd_products},
              {"seconds_total", seconds_total},
              {"peak_rss_mib", peak_rss_mib},
              {"singular_values", singular_values}};
}

// PPMI(w, c) = max(0, log( C(w,c) · Σ_c' C_α(c') / (C(w) · C_α(c)) )),
//   C(w) = Σ_c C(w,c) (row sum), C(c) = Σ_w C(w,c) (column sum), C_α(c) = C(c)^α.
// That is log P(w,c) / (P(w) · P_α(c)) with the context distribution P_α(c) = C_α(c) / Σ_c' C_α(c')
// (Levy, Goldberg & Dagan 2015, §3.2): α = 0.75 raises rare contexts' probability, which tames
// PMI's bias towards rare pairs. Computed in double, stored as float; zeros are not stored.
CsrMatrix ppmi(const CsrMatrix& counts, double alpha) {
  const std::vector<double> row = counts.row_sums(), col = counts.col_sums();
  std::vector<double> log_row(row.size()), log_col_alpha(col.size());
  double total_alpha = 0;
  for (std::size_t c = 0; c < col.size(); ++c) {
    total_alpha += std::pow(col[c], alpha);
    log_col_alpha[c] = alpha * std::log(col[c]);
  }
  for (std::size_t r = 0; r < row.size(); ++r) log_row[r] = std::log(row[r]);
  const double log_total_alpha = std::log(total_alpha);
  auto pmi = [&](std::int64_t r, std::int64_t k) {
    return std::log(double(counts.values[k])) + log_total_alpha - log_row[r] - log_col_alpha[counts.indices[k]];
  };

  CsrMatrix out;
  out.rows = counts.rows;
  out.cols = counts.cols;
  out.indptr.assign(counts.rows + 1, 0);
  // Two passes (count the positives per row, then fill), so rows are written in parallel into
  // their final place.
  at::parallel_for(0, counts.rows, 1024, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      std::int64_t n = 0;
      for (std::int64_t k = counts.indptr[r]; k < counts.indptr[r + 1]; ++k) n += counts.values[k] > 0 && pmi(r, k) > 0;
      out.indptr[r + 1] = n;
    }
  });
  for (std::int64_t r = 0; r < counts.rows; ++r) out.indptr[r + 1] += out.indptr[r];
  out.indices.resize(out.indptr.back());
  out.values.resize(out.indptr.back());
  at::parallel_for(0, counts.rows, 1024, [&](std::int64_t r0, std::int64_t r1) {
    for (std::int64_t r = r0; r < r1; ++r) {
      std::int64_t dst = out.indptr[r];
      for (std::int64_t k = counts.indptr[r]; k < counts.indptr[r + 1]; ++k) {
        if (!(counts.values[k] > 0)) continue;
        const double v = pmi(r, k);
        if (v > 0) {
          out.indices[dst] = counts.indices[k];
          out.values[dst++] = static_cast<float>(v);
        }
      }
    }
  });
  return out;
}

void csr_times_dense(const CsrMatrix& m, const float* x, std::int64_t l, float* out, bool accumulate) {
  const std::int64_t parts = std::min<std::int64_t>(std::max<std::int64_t>(m.rows, 1), 8 * at::get_num_threads());
  const auto split = balanced_row_split(m, parts);
  at::parallel_for(0, parts, 1, [&](std::int64_t p0, std::int64_t p1) {
    for (std::int64_t p = p0; p < p1; ++p)
      gather_rows(m.indptr.data(), m.indices.data(), m.values.data(), x, l, out, split[p], split[p + 1], accumulate);
  });
}

SparseHStack::SparseHStack(std::vector<CsrMatrix> blocks) : blocks_(std::move(blocks)) {
  check(!blocks_.empty(), "structured init", "a sparse stack needs at least one block");
  rows_ = blocks_[0].rows;
  for (const auto& b : blocks_) {
    check(b.rows == rows_, "structured init", "stacked blocks must have the same number of rows");
    col_offset_.push_back(cols_);
    cols_ += b.cols;
    transposed_.push_back(data::transpose(b));
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

TruncatedSvd randomized_svd(const SparseHStack& a, std::int64_t k, int oversample, int power_iters,
                            std::uint64_t seed) {
  const std::int64_t m = a.rows(), n = a.cols();
  check(k >= 1 && k <= std::min(m, n), "structured init",
        "SVD rank " + std::to_string(k) + " must be in [1, " + std::to_string(std::min(m, n)) + "]");
  check(oversample >= 0 && power_iters >= 0, "structured init", "oversample and power_iters must be >= 0");
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

std::pair<torch::Tensor, std::int64_t> rescale_rows(const torch::Tensor& u_sqrt_s, const torch::Tensor& use,
                                                    const torch::Tensor& fallback, double norm) {
  auto norms = u_sqrt_s.norm(2, 1, /*keepdim=*/true);
  auto ok = use.to(torch::kBool).unsqueeze(1) & (norms > 0);
  auto scaled = u_sqrt_s * (norm / norms.clamp_min(1e-30));
  auto out = torch::where(ok, scaled, fallback.to(u_sqrt_s.dtype()));
  return {out, ok.sum().item<std::int64_t>()};
}

torch::Tensor structured_embedding_from_counts(data::Cooccurrence&& counts, const torch::Tensor& random_init,
                                               const StructuredInitOptions& o, std::uint64_t seed,
                                               StructuredInitStats* stats) {
  StructuredInitStats local;
  StructuredInitStats& st = stats ? *stats : local;
  check(random_init.dim() == 2 && random_init.size(0) == counts.left.rows && random_init.size(1) >= 1,
        "structured init",
        "the embedding table must be [vocab " + std::to_string(counts.left.rows) + ", d], got " +
            std::to_string(random_init.dim()) + "-D");
  check(o.smoothing > 0, "structured init", "smoothing must be > 0, got " + std::to_string(o.smoothing));
  const std::int64_t V = random_init.size(0), d = random_init.size(1);
  st.tokens = counts.tokens;
  st.pairs = counts.pairs;
  st.nnz_counts = static_cast<std::int64_t>(counts.left.nnz());

  auto t = std::chrono::steady_clock::now();
  CsrMatrix left = std::move(counts.left);
  counts = data::Cooccurrence();
  CsrMatrix right = data::transpose(left);  // C_right = C_leftᵀ (data/cooccurrence.h)
  CsrMatrix ppmi_left = ppmi(left, o.smoothing);
  left = CsrMatrix();
  CsrMatrix ppmi_right = ppmi(right, o.smoothing);
  right = CsrMatrix();
  st.nnz_ppmi_left = static_cast<std::int64_t>(ppmi_left.nnz());
  st.nnz_ppmi_right = static_cast<std::int64_t>(ppmi_right.nnz());
  std::vector<CsrMatrix> blocks;
  blocks.push_back(std::move(ppmi_left));
  blocks.push_back(std::move(ppmi_right));
  SparseHStack a(std::move(blocks));
  st.seconds_ppmi = seconds_since(t);
  say(o, "PPMI: %.0f + %.0f positive entries in %.1fs", double(st.nnz_ppmi_left), double(st.nnz_ppmi_right),
      st.seconds_ppmi);

  // A vocabulary smaller than the width (toy models) gives at most V directions; the remaining
  // columns stay zero before the rows are rescaled.
  t = std::chrono::steady_clock::now();
  const std::int64_t k = std::min(d, V);
  auto svd = randomized_svd(a, k, o.oversample, o.power_iters, seed);
  auto emb = torch::zeros({V, d}, torch::kFloat32);
  emb.narrow(1, 0, k).copy_(svd.U * svd.S.sqrt().unsqueeze(0));
  auto fallback = random_init.detach().to(torch::kCPU, torch::kFloat32);
  auto [table, replaced] = rescale_rows(emb, a.row_nnz() > 0, fallback, o.init_std * std::sqrt(double(d)));
  st.seconds_svd = seconds_since(t);
  st.seconds_svd_products = svd.seconds_products;
  st.rows_structured = replaced;
  st.rows_random = V - replaced;
  auto s = svd.S.to(torch::kFloat64);
  st.singular_values.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  st.seconds_total = st.seconds_count + st.seconds_ppmi + st.seconds_svd;
  st.peak_rss_mib = peak_rss_mib();
  say(o, "rank-%.0f SVD in %.1fs (%.1fs in sparse products)", double(k), st.seconds_svd, st.seconds_svd_products);
  return table.to(random_init.options());
}

torch::Tensor structured_embedding(const data::TokenStream& train, const torch::Tensor& random_init,
                                   const StructuredInitOptions& o, std::uint64_t seed, StructuredInitStats* stats) {
  StructuredInitStats local;
  StructuredInitStats& st = stats ? *stats : local;
  check(random_init.dim() == 2, "structured init", "the embedding table must be 2-D [vocab, d]");
  data::CooccurrenceOptions co;
  co.window = o.window;
  co.eot = o.eot;
  co.threads = o.threads;
  co.progress = o.progress;
  auto t = std::chrono::steady_clock::now();
  auto counts = data::count_cooccurrences(train, random_init.size(0), co);
  st = StructuredInitStats();
  st.seconds_count = seconds_since(t);
  say(o, "counted %.0f tokens, %.0f distinct pairs in %.1fs", double(counts.tokens), double(counts.left.nnz()),
      st.seconds_count);
  return structured_embedding_from_counts(std::move(counts), random_init, o, seed, &st);
}

torch::Tensor structured_embedding(const data::TokenStream& train, std::int64_t vocab_size, std::int64_t d,
                                   const StructuredInitOptions& o, std::uint64_t seed, StructuredInitStats* stats) {
  check(vocab_size >= 1 && d >= 1, "structured init", "vocabulary size and width must be >= 1");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x5eedu);
  auto random_init = torch::randn({vocab_size, d}, gen, torch::kFloat32) * o.init_std;
  return structured_embedding(train, random_init, o, seed, stats);
}

}  // namespace structlm::model
