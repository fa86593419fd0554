// CSTDE structured init: PPMI against a hand-computed case and the dense formula, the sparse
// products against dense matmul, the randomized SVD against torch::linalg_svd, and the whole
// pipeline against a dense reference built in the test from brute-force counts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "data/cooccurrence.h"
#include "data/shard.h"
#include "cstde/structured_init.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::cstde;
using linalg::CsrMatrix;
using linalg::randomized_svd;  // the generic pieces (src/linalg/), tested here where they serve
using linalg::SparseHStack;
using structlm::test_util::TempDir;

namespace {

CsrMatrix from_dense(const torch::Tensor& d_in) {
  auto d = d_in.to(torch::kFloat32).contiguous();
  auto acc = d.accessor<float, 2>();
  CsrMatrix m;
  m.rows = d.size(0);
  m.cols = d.size(1);
  m.indptr.push_back(0);
  for (std::int64_t r = 0; r < m.rows; ++r) {
    for (std::int64_t c = 0; c < m.cols; ++c)
      if (acc[r][c] != 0) {
        m.indices.push_back(static_cast<std::int32_t>(c));
        m.values.push_back(acc[r][c]);
      }
    m.indptr.push_back(static_cast<std::int64_t>(m.indices.size()));
  }
  return m;
}

torch::Tensor to_dense(const CsrMatrix& m) { return SparseHStack({m}).to_dense(); }

// The PPMI formula on a dense matrix, in double: max(0, log(C·Σ_c C(c)^α / (C(w)·C(c)^α))).
torch::Tensor dense_ppmi(const torch::Tensor& counts, double alpha) {
  auto c = counts.to(torch::kFloat64);
  auto cw = c.sum(1, true), cc = c.sum(0, true).pow(alpha);
  auto pmi = torch::log(c * cc.sum() / (cw * cc));
  return torch::where(c > 0, pmi.clamp_min(0), torch::zeros_like(pmi)).nan_to_num(0);
}

// Sparse and exactly low rank, plus small noise scattered anywhere: component i is
// s_i·u_i·v_iᵀ with unit vectors u_i, v_i that are half zeros and live on disjoint row and column
// ranges, so the singular values are exactly s_i = 10·0.8^i before the noise.
CsrMatrix low_rank_plus_noise(std::int64_t m, std::int64_t n, int rank, std::uint64_t seed) {
  SplitMix64 rng(seed);
  auto d = torch::zeros({m, n}, torch::kFloat64);
  const std::int64_t rows_per = m / rank, cols_per = n / rank;
  auto sparse_unit = [&](std::int64_t len) {
    auto v = torch::zeros({len}, torch::kFloat64);
    for (std::int64_t j = 0; j < len; ++j)
      if (j == 0 || rng.uniform() < 0.5) v[j] = 0.5 + rng.uniform();
    return v / v.norm();
  };
  for (int i = 0; i < rank; ++i) {
    auto u = sparse_unit(rows_per), v = sparse_unit(cols_per);
    d.narrow(0, i * rows_per, rows_per).narrow(1, i * cols_per, cols_per) += 10.0 * std::pow(0.8, i) * torch::outer(u, v);
  }
  for (int e = 0; e < 3 * m; ++e) d[rng.below(m)][rng.below(n)] = 0.01 * (rng.uniform() - 0.5);
  return from_dense(d);
}

struct ThreadsGuard {
  int saved = at::get_num_threads();
  ~ThreadsGuard() { at::set_num_threads(saved); }
};

}  // namespace

TEST(StructuredInit, PpmiHandComputed) {
  // C = [[2, 0], [1, 1]]: C(w) = (2, 2), C(c) = (3, 1).
  auto m = from_dense(torch::tensor({{2.0, 0.0}, {1.0, 1.0}}));
  auto p1 = ppmi(m, 1.0);  // plain PPMI, total 4
  EXPECT_NEAR(p1.at(0, 0), std::log(2.0 * 4 / (2 * 3)), 1e-6);
  EXPECT_EQ(p1.at(1, 0), 0.0f);  // log(1·4 / (2·3)) < 0: dropped, not stored
  EXPECT_NEAR(p1.at(1, 1), std::log(1.0 * 4 / (2 * 1)), 1e-6);
  EXPECT_EQ(p1.nnz(), 2u);
  auto p75 = ppmi(m, 0.75);  // Σ_c C(c)^0.75 = 3^0.75 + 1
  const double t = std::pow(3.0, 0.75) + 1;
  EXPECT_NEAR(p75.at(0, 0), std::log(2.0 * t / (2 * std::pow(3.0, 0.75))), 1e-6);
  EXPECT_NEAR(p75.at(1, 1), std::log(1.0 * t / (2 * 1.0)), 1e-6);
}

TEST(StructuredInit, PpmiMatchesDenseFormula) {
  torch::manual_seed(1);
  // Skewed counts with many zeros and some empty rows and columns.
  auto c = (torch::rand({30, 25}) < 0.3).to(torch::kFloat64) * torch::rand({30, 25}).mul(50).floor().add(1) /
           torch::arange(1, 31, torch::kFloat64).unsqueeze(1);
  c.index_put_({5}, 0.0);
  c.index_put_({torch::indexing::Slice(), 7}, 0.0);
  for (double alpha : {1.0, 0.75}) {
    auto got = to_dense(ppmi(from_dense(c), alpha)).to(torch::kFloat64);
    auto want = dense_ppmi(c.to(torch::kFloat32).to(torch::kFloat64), alpha);
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << "alpha " << alpha << " max diff "
                                                        << (got - want).abs().max().item<double>();
    EXPECT_EQ(ppmi(from_dense(c), alpha).nnz(), (want > 0).sum().item<std::int64_t>());
  }
}

TEST(StructuredInit, SparseProductsMatchDenseForAnyThreads) {
  ThreadsGuard guard;
  auto a = low_rank_plus_noise(57, 40, 4, 3), b = low_rank_plus_noise(57, 33, 3, 4);
  SparseHStack s({a, b});
  ASSERT_EQ(s.cols(), 73);
  auto dense = s.to_dense();
  torch::manual_seed(2);
  auto x = torch::randn({73, 21}), y = torch::randn({57, 21});
  at::set_num_threads(1);
  auto ax1 = s.matmul(x), aty1 = s.tmatmul(y);
  EXPECT_TRUE(torch::allclose(ax1, dense.matmul(x), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(aty1, dense.t().matmul(y), 1e-4, 1e-5));
  at::set_num_threads(2);
  EXPECT_TRUE(torch::equal(s.matmul(x), ax1));  // same bits: each output row is one thread's sum
  EXPECT_TRUE(torch::equal(s.tmatmul(y), aty1));
  EXPECT_EQ(s.row_nnz().sum().item<std::int64_t>(), static_cast<std::int64_t>(a.nnz() + b.nnz()));
}

TEST(StructuredInit, RandomizedSvdMatchesDenseSvd) {
  auto left = low_rank_plus_noise(240, 240, 12, 5), right = low_rank_plus_noise(240, 240, 12, 6);
  SparseHStack a({left, right});
  const std::int64_t k = 10;
  auto r = randomized_svd(a, k, 10, 2, 42);
  auto [u, s, vh] = torch::linalg_svd(a.to_dense().to(torch::kFloat64), false);
  auto rel = ((r.S.to(torch::kFloat64) - s.narrow(0, 0, k)).abs() / s.narrow(0, 0, k)).max().item<double>();
  EXPECT_LT(rel, 1e-3) << "singular values " << r.S << " vs " << s.narrow(0, 0, k);
  // Largest principal angle between the two k-dimensional subspaces: the smallest singular value
  // of U_denseᵀ·U_random is its cosine.
  auto cosines = torch::linalg_svdvals(u.narrow(1, 0, k).t().matmul(r.U.to(torch::kFloat64)));
  double sin_max = std::sqrt(std::max(0.0, 1 - std::pow(cosines.min().item<double>(), 2)));
  EXPECT_LT(sin_max, 1e-2);
  EXPECT_TRUE(torch::allclose(r.U.t().matmul(r.U), torch::eye(k), 1e-4, 1e-4));  // orthonormal
  // Determinism: the test matrix comes from the seed alone.
  auto again = randomized_svd(a, k, 10, 2, 42);
  EXPECT_TRUE(torch::equal(again.U, r.U));
  EXPECT_TRUE(torch::equal(again.S, r.S));
}

TEST(StructuredInit, RescaleKeepsFallbackRows) {
  auto u = torch::tensor({{3.0f, 4.0f}, {0.0f, 0.0f}, {1.0f, 0.0f}});
  auto fb = torch::tensor({{9.0f, 9.0f}, {8.0f, 8.0f}, {7.0f, 7.0f}});
  auto use = torch::tensor({true, true, false});
  auto [out, n] = rescale_rows(u, use, fb, 0.5);
  EXPECT_EQ(n, 1);  // row 1 is zero, row 2 not used
  EXPECT_TRUE(torch::allclose(out[0], torch::tensor({0.3f, 0.4f})));
  EXPECT_TRUE(torch::equal(out[1], fb[1]));
  EXPECT_TRUE(torch::equal(out[2], fb[2]));
}

namespace {

// A corpus in one shard: documents of random lengths, each opened by EOT, with token t drawn
// with probability ∝ 1/(t+1) from [0, used) (tokens from `used` up never appear).
std::vector<std::uint32_t> zipf_docs(std::size_t n, std::uint32_t used, std::uint32_t eot, std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<double> cdf(used);
  double z = 0;
  for (std::uint32_t t = 0; t < used; ++t) cdf[t] = (z += 1.0 / (t + 1));
  std::vector<std::uint32_t> x;
  while (x.size() < n) {
    x.push_back(eot);
    for (std::uint64_t len = 5 + rng.below(40); len-- && x.size() < n;)
      x.push_back(std::uint32_t(std::lower_bound(cdf.begin(), cdf.end(), rng.uniform() * z) - cdf.begin()));
  }
  return x;
}

// The corpus written as a shard in tmp, read back as the trainer reads it.
data::TokenStream as_stream(const TempDir& tmp, const std::vector<std::uint32_t>& x, std::int64_t V) {
  data::write_shard(tmp / "train.bin", x, V);
  return data::TokenStream({tmp / "train.bin"});
}

StructuredInitOptions quiet_options(std::int64_t eot) {
  StructuredInitOptions o;
  o.eot = eot;
  o.progress = false;
  return o;
}

// The definition of §1a, densely and independently of the library: brute-force weighted counts,
// the PPMI formula, full SVD, U·S^{1/2} with rows at norm `norm`.
torch::Tensor dense_reference(const std::vector<std::uint32_t>& x, std::int64_t V, int w, std::int64_t eot,
                              std::int64_t d, double norm) {
  auto left = torch::zeros({V, V}, torch::kFloat64);
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t k = 1; k <= std::size_t(w) && k <= i; ++k) {
      bool crosses = false;
      for (std::size_t e = i - k + 1; e <= i; ++e) crosses |= (std::int64_t(x[e]) == eot);
      if (crosses) break;
      left[x[i]][x[i - k]] += 1.0 / k;
    }
  auto a = torch::cat({dense_ppmi(left, 0.75), dense_ppmi(left.t(), 0.75)}, 1);
  auto [u, s, vh] = torch::linalg_svd(a, false);
  auto e = u.narrow(1, 0, d) * s.narrow(0, 0, d).sqrt();
  return e * (norm / e.norm(2, 1, true));
}

}  // namespace

TEST(StructuredInit, WholePipelineMatchesDenseReference) {
  TempDir tmp;
  const std::int64_t V = 24, eot = 23;  // tokens 18..22 never appear
  auto x = zipf_docs(4000, 18, eot, 9);
  auto train = as_stream(tmp, x, V);
  const auto o = quiet_options(eot);
  torch::manual_seed(0);
  auto random_init = torch::randn({V, 32}) * 0.02;  // d = 32 > V: every direction is kept, exactly
  StructuredInitStats st;
  auto e = structured_embedding(train, random_init, o, 1, &st);
  ASSERT_EQ(e.sizes(), random_init.sizes());
  EXPECT_EQ(st.rows_structured, 19);  // 18 tokens and EOT
  EXPECT_EQ(st.rows_random, 5);
  EXPECT_EQ(st.tokens, x.size());
  for (std::int64_t t = 18; t < 23; ++t) EXPECT_TRUE(torch::equal(e[t], random_init[t])) << "token " << t;
  const double norm = 0.02 * std::sqrt(32.0);
  std::vector<std::int64_t> seen_ids(18);
  std::iota(seen_ids.begin(), seen_ids.end(), 0);
  seen_ids.push_back(eot);
  auto seen = torch::tensor(seen_ids);
  EXPECT_TRUE(torch::allclose(e.index_select(0, seen).norm(2, 1), torch::full({19}, norm, torch::kFloat32), 1e-5));
  // Singular vectors have arbitrary signs (and rotations inside repeated singular values), so
  // compare the Gram matrices E·Eᵀ, which do not depend on them.
  auto want = dense_reference(x, V, 8, eot, V, norm).index_select(0, seen);
  auto got = e.index_select(0, seen).to(torch::kFloat64);
  auto diff = (got.matmul(got.t()) - want.matmul(want.t())).abs().max().item<double>();
  EXPECT_LT(diff, 1e-4 * norm * norm) << "E·Eᵀ differs by " << diff;
}

TEST(StructuredInit, LowRankTableIsDeterministicAndScaled) {
  TempDir tmp;
  const std::int64_t V = 300, eot = 299, d = 16;
  auto x = zipf_docs(30000, 250, eot, 4);
  auto train = as_stream(tmp, x, V);
  const auto o = quiet_options(eot);
  StructuredInitStats st;
  auto e1 = structured_embedding(train, V, d, o, 7, &st);
  auto e2 = structured_embedding(train, V, d, o, 7);
  EXPECT_TRUE(torch::equal(e1, e2));
  EXPECT_EQ(st.singular_values.size(), std::size_t(d));
  EXPECT_TRUE(std::is_sorted(st.singular_values.rbegin(), st.singular_values.rend()));
  EXPECT_GT(st.nnz_counts, 0);
  EXPECT_GT(st.peak_rss_mib, 0);
  EXPECT_EQ(st.rows_structured + st.rows_random, V);
  auto norms = e1.norm(2, 1);
  auto structured = (norms - 0.02 * std::sqrt(double(d))).abs() < 1e-5;
  EXPECT_EQ(structured.sum().item<std::int64_t>(), st.rows_structured);
  // Unseen tokens (250..298) keep the random init, N(0, 0.02²) from the seed: their rows are not
  // rescaled, and their overall std is the init's.
  auto unseen = e1.narrow(0, 250, 49);
  EXPECT_NEAR(unseen.std().item<double>(), 0.02, 0.003);
  EXPECT_EQ(st.rows_structured, 251);  // tokens 0..249 (all occur in 30k tokens) and EOT
  // Its leading singular value matches the dense SVD of [PPMI_left | PPMI_right] closely.
  auto c = data::count_cooccurrences(train, V, {8, eot, 1, false});
  auto left = to_dense(c.left).to(torch::kFloat64);
  auto s = torch::linalg_svdvals(torch::cat({dense_ppmi(left, 0.75), dense_ppmi(left.t(), 0.75)}, 1));
  EXPECT_NEAR(st.singular_values[0], s[0].item<double>(), 1e-3 * s[0].item<double>());
}

TEST(StructuredInit, BadShapesAreErrors) {
  data::Cooccurrence c;
  c.left.rows = c.left.cols = 4;
  c.left.indptr.assign(5, 0);
  StructuredInitOptions o;
  o.progress = false;
  EXPECT_THROW(structured_embedding_from_counts(std::move(c), torch::zeros({5, 8}), o, 0), Error);
}

// model.cstde.init_tokens "trained" (issue 14): the counts are those of the windows the run trains
// on, each a text of its own. Two steps of one window of 3 tokens, [1 2 3] then [3 1 2], window
// w = 8, weights 1/(i - j):
//   [1 2 3]: C[2,1] += 1, C[3,2] += 1, C[3,1] += 1/2;   [3 1 2]: C[1,3] += 1, C[2,1] += 1, C[2,3] += 1/2.
// Read as one stream [1 2 3 3 1 2] the pairs across the seam (C[3,3], C[1,3] += 1/2, ...) would
// count too: they must not. A window read twice counts twice.
TEST(StructuredInit, TrainedTokensCountEachWindowByHand) {
  const std::vector<std::vector<std::int64_t>> steps = {{1, 2, 3}, {3, 1, 2}};
  TrainedTokens t;
  t.steps = 2;
  t.rows = 1;
  t.window = 3;
  std::vector<std::int64_t> asked;
  t.read_step = [&](std::int64_t s, std::int64_t* out) {
    asked.push_back(s);
    std::copy(steps[std::size_t(s)].begin(), steps[std::size_t(s)].end(), out);
  };
  data::CooccurrenceOptions o{8, /*eot=*/-1, 1, false};
  o.chunk_tokens = 2;  // reads that straddle the steps: each step is still drawn once
  auto c = count_trained_cooccurrences(t, 4, o);
  EXPECT_EQ(asked, (std::vector<std::int64_t>{0, 1}));
  auto want = torch::zeros({4, 4}, torch::kFloat64);
  want[2][1] = 2.0, want[3][2] = 1.0, want[3][1] = 0.5, want[1][3] = 1.0, want[2][3] = 0.5;
  EXPECT_TRUE(torch::equal(to_dense(c.left).to(torch::kFloat64), want)) << to_dense(c.left);
  EXPECT_EQ(c.tokens, 6u);
  EXPECT_EQ(c.pairs, 6u);

  // EOT rule inside a window: [1 0 2] with EOT 0: (0 opens the document) C[2,0] += 1 only.
  t.steps = 1;
  t.read_step = [](std::int64_t, std::int64_t* out) { out[0] = 1, out[1] = 0, out[2] = 2; };
  o.eot = 0;
  auto e = count_trained_cooccurrences(t, 4, o);
  auto want_e = torch::zeros({4, 4}, torch::kFloat64);
  want_e[2][0] = 1.0;
  EXPECT_TRUE(torch::equal(to_dense(e.left).to(torch::kFloat64), want_e)) << to_dense(e.left);

  t.window = 1;
  EXPECT_THROW(count_trained_cooccurrences(t, 4, o), Error);
}

// "trained" against "split" on a stream small enough to follow: windows of T + 1 = 5 of the
// 6-token stream [1 2 3 4 5 6] are [1..5] or [2..6], drawn as the trainer draws its batches
// (TokenStream::random_batch, seed and step). Three steps of two rows count exactly those six
// windows (brute force here), the split counts the stream once.
TEST(StructuredInit, TrainedCountsAreTheDrawnWindowsAndSplitTheWholeStream) {
  TempDir tmp;
  const std::vector<std::uint32_t> x = {1, 2, 3, 4, 5, 6};
  auto train = as_stream(tmp, x, 8);
  const int T = 4, rows = 2;
  const std::uint64_t seed = 3;
  TrainedTokens t;
  t.steps = 3;
  t.rows = rows;
  t.window = T + 1;
  t.read_step = [&](std::int64_t s, std::int64_t* out) { train.random_batch(seed, s, rows, T, out); };
  const data::CooccurrenceOptions o{8, -1, 1, false};
  auto c = count_trained_cooccurrences(t, 8, o);

  auto want = torch::zeros({8, 8}, torch::kFloat64);
  int first_windows = 0;
  std::vector<std::int64_t> buf(std::size_t(rows) * (T + 1));
  for (std::int64_t s = 0; s < 3; ++s) {
    train.random_batch(seed, s, rows, T, buf.data());
    for (int r = 0; r < rows; ++r) {
      const std::int64_t* w = buf.data() + r * (T + 1);
      first_windows += w[0] == 1;
      for (int i = 0; i < T + 1; ++i)
        for (int j = 0; j < i; ++j) want[w[i]][w[j]] += 1.0 / (i - j);
    }
  }
  EXPECT_TRUE(torch::allclose(to_dense(c.left).to(torch::kFloat64), want, 0, 1e-6)) << to_dense(c.left) << want;
  EXPECT_EQ(c.tokens, 30u);
  EXPECT_EQ(c.pairs, 60u);  // 10 pairs in each window of 5
  std::printf("[ measured ] %d of 6 windows start at token 1\n", first_windows);

  auto split = data::count_cooccurrences(train, 8, o);
  EXPECT_EQ(split.tokens, 6u);
  EXPECT_EQ(split.pairs, 15u);
  EXPECT_FLOAT_EQ(to_dense(split.left)[6][1].item<float>(), 1.0f / 5);  // only the whole stream pairs 6 with 1

  // The embeddings record where their counts came from.
  torch::manual_seed(0);
  const auto random_init = torch::randn({8, 4}) * 0.02;
  StructuredInitStats st_trained, st_split;
  structured_embedding(t, random_init, quiet_options(-1), 1, &st_trained);
  structured_embedding(train, random_init, quiet_options(-1), 1, &st_split);
  EXPECT_EQ(st_trained.source, "trained");
  EXPECT_EQ(st_trained.tokens, 30u);
  EXPECT_EQ(st_trained.to_json()["steps"], 3);
  EXPECT_EQ(st_trained.to_json()["window"], 5);
  EXPECT_EQ(st_split.source, "split");
  EXPECT_EQ(st_split.tokens, 6u);
  EXPECT_FALSE(st_split.to_json().contains("steps"));
}

// model.cstde.init_permute (issue 14, E1's control): rows shuffled only among structured tokens
// of one frequency bin, so the spectrum and the rows themselves stay and the identities change.
TEST(StructuredInit, PermutedInitShufflesRowsWithinFrequencyBinsOnly) {
  const std::int64_t V = 40, d = 6;
  auto table = torch::randn({V, d});
  const auto original = table.clone();
  std::vector<std::uint64_t> count(V);
  for (std::int64_t t = 0; t < V; ++t) count[std::size_t(t)] = std::uint64_t(1) << (t % 4);  // bins 0..3, 10 tokens each
  auto structured = torch::ones({V}, torch::kBool);
  structured.narrow(0, 36, 4).fill_(false);  // never co-occurred: kept as they are
  const std::int64_t moved = permute_within_frequency_bins(table, count, structured, 11);
  for (std::int64_t t = 36; t < V; ++t) EXPECT_TRUE(torch::equal(table[t], original[t])) << t;
  // Each row now holds a row of a token of its own bin (bin sizes 9, 9, 9, 9 among the structured).
  std::int64_t changed = 0;
  for (std::int64_t t = 0; t < 36; ++t) {
    int from = -1;
    for (std::int64_t u = 0; u < 36; ++u)
      if (torch::equal(table[t], original[u])) from = int(u);
    ASSERT_GE(from, 0) << "row " << t << " is no token's original row";
    EXPECT_EQ(from % 4, t % 4) << "row " << t << " came from another frequency bin";
    changed += from != t;
  }
  EXPECT_EQ(changed, moved);
  EXPECT_GT(moved, 24);  // most of the 36 rows move; identities are what the control breaks
  // A permutation of rows: the same singular values.
  EXPECT_TRUE(torch::allclose(torch::linalg_svdvals(table), torch::linalg_svdvals(original), 1e-5, 1e-6));
  // Deterministic in the seed; another seed gives another order.
  auto again = original.clone(), other = original.clone();
  permute_within_frequency_bins(again, count, structured, 11);
  permute_within_frequency_bins(other, count, structured, 12);
  EXPECT_TRUE(torch::equal(again, table));
  EXPECT_FALSE(torch::equal(other, table));
}

TEST(StructuredInit, PermutedPipelineKeepsTheSpectrumAndReportsTheMoves) {
  TempDir tmp;
  const std::int64_t V = 300, eot = 299, d = 16;
  auto train = as_stream(tmp, zipf_docs(30000, 250, eot, 4), V);
  auto o = quiet_options(eot);
  StructuredInitStats plain_st, permuted_st;
  auto plain = structured_embedding(train, V, d, o, 7, &plain_st);
  o.permute = true;
  auto permuted = structured_embedding(train, V, d, o, 7, &permuted_st);
  EXPECT_EQ(plain_st.rows_permuted, 0);
  EXPECT_GT(permuted_st.rows_permuted, 150);  // of 251 structured rows
  EXPECT_FALSE(torch::equal(plain, permuted));
  EXPECT_TRUE(torch::allclose(torch::linalg_svdvals(plain), torch::linalg_svdvals(permuted), 1e-4, 1e-6));
  EXPECT_TRUE(torch::equal(plain.narrow(0, 250, 49), permuted.narrow(0, 250, 49)));  // unseen rows stay
}
