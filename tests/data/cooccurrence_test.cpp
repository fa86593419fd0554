// Directional co-occurrence counts: a hand-computed case (1/(i − j) weights, the EOT document
// rule), a brute-force reference on random documents for any chunk size and thread count, the
// transpose, shards through TokenStream, and errors that name the bad token.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "core/rng.h"
#include "data/cooccurrence.h"
#include "data/shard.h"
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::data;
using structlm::linalg::CsrMatrix;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

using Dense = std::map<std::pair<int, int>, double>;

Dense entries(const CsrMatrix& m) {
  Dense d;
  for (std::int64_t r = 0; r < m.rows; ++r) {
    for (std::int64_t k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      d[{int(r), m.indices[k]}] = m.values[k];
      if (k > m.indptr[r]) EXPECT_LT(m.indices[k - 1], m.indices[k]) << "row " << r << " not sorted";
    }
  }
  return d;
}

// The definition, literally: every pair j < i within w, skipped if an EOT lies in (j, i].
Dense brute_force(const std::vector<std::uint32_t>& x, int w, std::int64_t eot) {
  Dense d;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (std::size_t j = (i >= std::size_t(w) ? i - w : 0); j < i; ++j) {
      bool crosses = false;
      for (std::size_t e = j + 1; e <= i; ++e) crosses |= (std::int64_t(x[e]) == eot);
      if (!crosses) d[{int(x[i]), int(x[j])}] += 1.0 / double(i - j);
    }
  return d;
}

CooccurrenceOptions opts(int window, std::int64_t eot, int threads = 1, std::size_t chunk = 1 << 22) {
  CooccurrenceOptions o;
  o.window = window;
  o.eot = eot;
  o.threads = threads;
  o.chunk_tokens = chunk;
  o.progress = false;
  return o;
}

}  // namespace

TEST(Cooccurrence, HandComputedWeightsAndDocumentBoundary) {
  // Two documents: [0 1 2] before the first EOT, then [EOT 1 1 3]. Window 2, EOT = 4.
  const std::vector<std::uint32_t> x = {0, 1, 2, 4, 1, 1, 3};
  auto c = count_cooccurrences(x.data(), x.size(), 5, opts(2, 4));
  // C_left[a, b]: b at distance k before a adds 1/k. Doc 1: (1←0) 1, (2←1) 1, (2←0) 1/2.
  // Doc 2: (1←EOT) 1 + 1/2 (the second 1 sees EOT at distance 2), (1←1) 1, (3←1) 1 + 1/2.
  // Nothing pairs across the boundary: no (EOT←2), (EOT←1), (1←2).
  Dense want = {{{1, 0}, 1.0}, {{2, 1}, 1.0}, {{2, 0}, 0.5}, {{1, 4}, 1.5}, {{1, 1}, 1.0}, {{3, 1}, 1.5}};
  EXPECT_EQ(entries(c.left), want);
  EXPECT_EQ(c.tokens, 7u);
  EXPECT_EQ(c.pairs, 8u);  // 1 + 2 in doc 1; 0 + 1 + 2 + 2 in doc 2
  EXPECT_EQ(c.unigram, (std::vector<std::uint64_t>{1, 3, 1, 1, 1}));
  EXPECT_FLOAT_EQ(c.left.at(1, 4), 1.5f);
  EXPECT_EQ(c.left.at(4, 2), 0.0f);

  // C_right[x_j, x_i] = C_left[x_i, x_j]: the transpose.
  Dense right = {{{0, 1}, 1.0}, {{1, 2}, 1.0}, {{0, 2}, 0.5}, {{4, 1}, 1.5}, {{1, 1}, 1.0}, {{1, 3}, 1.5}};
  EXPECT_EQ(entries(transpose(c.left)), right);
  EXPECT_EQ(c.left.row_sums(), (std::vector<double>{0, 3.5, 1.5, 1.5, 0}));
  EXPECT_EQ(c.left.col_sums(), (std::vector<double>{1.5, 3.5, 0, 0, 1.5}));

  // Without a boundary token the pairs across it count too: (EOT←2) 1, (EOT←1) 1/2, (1←2) 1/2.
  auto open = count_cooccurrences(x.data(), x.size(), 5, opts(2, -1));
  want[{4, 2}] = 1.0;
  want[{4, 1}] = 0.5;
  want[{1, 2}] = 0.5;
  EXPECT_EQ(entries(open.left), want);
}

TEST(Cooccurrence, MatchesBruteForceForAnyChunkingAndThreads) {
  SplitMix64 rng(7);
  const int V = 40, eot = 39;
  std::vector<std::uint32_t> x(3000);
  for (auto& t : x) t = rng.uniform() < 0.02 ? eot : std::uint32_t(rng.below(V - 1) * rng.uniform());  // skewed
  for (int w : {1, 3, 8}) {
    const Dense want = brute_force(x, w, eot);
    auto ref = count_cooccurrences(x.data(), x.size(), V, opts(w, eot));
    Dense got = entries(ref.left);
    ASSERT_EQ(got.size(), want.size()) << "window " << w;
    for (const auto& [key, v] : want) EXPECT_NEAR(got[key], v, 1e-6 * v) << key.first << "," << key.second;
    for (int threads : {2, 3})
      for (std::size_t chunk : {std::size_t(1), std::size_t(17), std::size_t(1000)}) {
        auto c = count_cooccurrences(x.data(), x.size(), V, opts(w, eot, threads, chunk));
        // Bitwise: each row is summed in corpus order whatever the chunking and threads.
        EXPECT_EQ(c.left.indptr, ref.left.indptr);
        EXPECT_EQ(c.left.indices, ref.left.indices);
        EXPECT_EQ(c.left.values, ref.left.values) << "threads " << threads << " chunk " << chunk;
        EXPECT_EQ(c.pairs, ref.pairs);
      }
  }
}

TEST(Cooccurrence, TransposeIsExact) {
  SplitMix64 rng(3);
  std::vector<std::uint32_t> x(500);
  for (auto& t : x) t = std::uint32_t(rng.below(23));
  auto c = count_cooccurrences(x.data(), x.size(), 23, opts(4, -1));
  CsrMatrix t = transpose(c.left);
  EXPECT_EQ(t.nnz(), c.left.nnz());
  for (int a = 0; a < 23; ++a)
    for (int b = 0; b < 23; ++b) EXPECT_EQ(t.at(a, b), c.left.at(b, a));
  EXPECT_EQ(transpose(t).values, c.left.values);
}

TEST(Cooccurrence, ReadsShardsThroughTokenStream) {
  TempDir tmp;
  std::vector<std::uint32_t> a = {50256, 10, 20, 30, 10}, b = {50256, 20, 10, 40000};
  write_shard(tmp / "a.bin", a, 50257);
  write_shard(tmp / "b.bin", b, 50257);
  TokenStream s({tmp / "a.bin", tmp / "b.bin"});
  auto c = count_cooccurrences(s, 50257, opts(3, 50256, 2, 4));
  std::vector<std::uint32_t> all = a;
  all.insert(all.end(), b.begin(), b.end());
  Dense got = entries(c.left), want = brute_force(all, 3, 50256);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, v] : want) EXPECT_FLOAT_EQ(got[key], v);
  // 20 after 10 at distance 1 in the first shard's document; the 10 that ends it and the 20 two
  // tokens later are in different documents.
  EXPECT_EQ(c.left.at(20, 10), 1.0f);
  EXPECT_EQ(count_cooccurrences(s, 50257, opts(3, -1)).left.at(20, 10), 1.5f);
}

TEST(Cooccurrence, BadInputNamesTheProblem) {
  std::vector<std::uint32_t> x = {1, 2, 9};
  auto msg = error_of([&] { count_cooccurrences(x.data(), x.size(), 5, opts(2, -1)); });
  EXPECT_NE(msg.find("token id 9 at position 2"), std::string::npos) << msg;
  msg = error_of([&] { count_cooccurrences(x.data(), x.size(), 10, opts(0, -1)); });
  EXPECT_NE(msg.find("window"), std::string::npos) << msg;
}
