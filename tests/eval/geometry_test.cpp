// Embedding geometry and contextual stability (eval/geometry.h), each against a case whose
// answer is known by construction and against an independent computation written here: a Jacobi
// eigensolver instead of torch's, explicit loops instead of matrix products, one window at a time
// instead of batches.
#include "eval/geometry.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "data/shard.h"
#include "model/model_test_util.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;
namespace F = torch::nn::functional;

namespace {

using Matrix = std::vector<std::vector<double>>;

Matrix to_matrix(const torch::Tensor& t) {
  auto c = t.to(torch::kDouble).contiguous();
  Matrix m(std::size_t(c.size(0)), std::vector<double>(std::size_t(c.size(1))));
  for (std::int64_t i = 0; i < c.size(0); ++i)
    for (std::int64_t j = 0; j < c.size(1); ++j) m[std::size_t(i)][std::size_t(j)] = c[i][j].item<double>();
  return m;
}

// Cyclic Jacobi rotations on a symmetric matrix: eigenvalues (the diagonal left) and
// eigenvectors (the columns of the accumulated rotation).
std::pair<std::vector<double>, Matrix> jacobi_eigen(Matrix A) {
  const std::size_t n = A.size();
  Matrix V(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) V[i][i] = 1;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) off += A[p][q] * A[p][q];
    if (off < 1e-30) break;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        if (A[p][q] == 0) continue;
        const double theta = (A[q][q] - A[p][p]) / (2 * A[p][q]);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // A <- A J (columns p, q)
          const double akp = A[k][p], akq = A[k][q];
          A[k][p] = c * akp - s * akq;
          A[k][q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // A <- J^T A (rows p, q)
          const double apk = A[p][k], aqk = A[q][k];
          A[p][k] = c * apk - s * aqk;
          A[q][k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {
          const double vkp = V[k][p], vkq = V[k][q];
          V[k][p] = c * vkp - s * vkq;
          V[k][q] = s * vkp + c * vkq;
        }
      }
  }
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = A[i][i];
  return {values, V};
}

// Rows +e_i and -e_i for every i of R^d, scaled: isotropic by construction.
torch::Tensor plus_minus_basis(std::int64_t d, double scale = 1.0, std::int64_t used = -1) {
  if (used < 0) used = d;
  auto E = torch::zeros({2 * used, d}, torch::kDouble);
  for (std::int64_t i = 0; i < used; ++i) {
    E[2 * i][i] = scale;
    E[2 * i + 1][i] = -scale;
  }
  return E;
}

// I(W) by its definition, with no log-sum-exp: Z(c) = sum_w exp(c . w) for c = +-eigenvectors.
double naive_iw(const Matrix& W) {
  const std::size_t d = W[0].size();
  Matrix G(d, std::vector<double>(d, 0.0));
  for (const auto& w : W)
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) G[i][j] += w[i] * w[j];
  const Matrix V = jacobi_eigen(G).second;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (std::size_t e = 0; e < d; ++e)
    for (double sign : {1.0, -1.0}) {
      double Z = 0;
      for (const auto& w : W) {
        double dot = 0;
        for (std::size_t i = 0; i < d; ++i) dot += sign * V[i][e] * w[i];
        Z += std::exp(dot);
      }
      lo = std::min(lo, Z);
      hi = std::max(hi, Z);
    }
  return lo / hi;
}

// IsoScore the short way: the variance vector is the covariance matrix's eigenvalues.
double reference_isoscore(const Matrix& X) {
  const std::size_t N = X.size(), n = X[0].size();
  std::vector<double> mean(n, 0.0);
  for (const auto& x : X)
    for (std::size_t i = 0; i < n; ++i) mean[i] += x[i] / double(N);
  Matrix C(n, std::vector<double>(n, 0.0));
  for (const auto& x : X)
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) C[i][j] += (x[i] - mean[i]) * (x[j] - mean[j]) / double(N - 1);
  const std::vector<double> var = jacobi_eigen(C).first;
  double norm = 0;
  for (double v : var) norm += v * v;
  norm = std::sqrt(norm);
  double dist2 = 0;
  for (double v : var) dist2 += std::pow(v * std::sqrt(double(n)) / norm - 1.0, 2);
  const double dn = double(n);
  const double defect2 = dist2 / (2 * (dn - std::sqrt(dn)));
  const double k = std::pow(dn - defect2 * (dn - std::sqrt(dn)), 2) / dn;  // dimensions used
  return (k - 1) / (dn - 1);
}

}  // namespace

TEST(HcmaGeometry, IsotropyIsOneForAnIsotropicTable) {
  EXPECT_NEAR(eval::isotropy_iw(plus_minus_basis(6)), 1.0, 1e-12);
  // c . w = +-1000: exp overflows float64 without the log-sum-exp.
  EXPECT_NEAR(eval::isotropy_iw(plus_minus_basis(6, 1000.0)), 1.0, 1e-12);
}

TEST(HcmaGeometry, IsotropyIsSmallWithACommonMean) {
  torch::manual_seed(3);
  auto noise = torch::randn({500, 8}, torch::kDouble) * 0.3;
  auto direction = F::normalize(torch::randn({1, 8}, torch::kDouble), F::NormalizeFuncOptions().dim(1));
  const double centred = eval::isotropy_iw(noise - noise.mean(0, true));
  const double shifted = eval::isotropy_iw(noise + 5.0 * direction);
  EXPECT_GT(centred, 0.5);
  // Z along the mean ~ V e^5, against the mean ~ V e^-5.
  EXPECT_LT(shifted, 1e-3);
  EXPECT_GT(shifted, 0.0);
}

TEST(HcmaGeometry, IsotropyMatchesTheDirectFormula) {
  torch::manual_seed(5);
  auto E = torch::randn({40, 5}, torch::kDouble) * torch::tensor({1.5, 1.0, 0.7, 0.4, 0.2}, torch::kDouble) + 0.3;
  const double want = naive_iw(to_matrix(E));
  EXPECT_NEAR(eval::isotropy_iw(E), want, 1e-10 * want);
  EXPECT_LT(want, 0.9);  // far enough from 1 that the comparison can fail
  EXPECT_NEAR(eval::isotropy_iw(E.to(torch::kFloat)), want, 1e-5);  // float input is computed in float64
}

TEST(HcmaGeometry, IsoScoreKnownValues) {
  EXPECT_NEAR(eval::isoscore(plus_minus_basis(7)), 1.0, 1e-12);
  // k of n dimensions used equally: phi = k / n, so IsoScore = (k - 1) / (n - 1).
  EXPECT_NEAR(eval::isoscore(plus_minus_basis(7, 2.0, 3)), 2.0 / 6.0, 1e-12);
  torch::manual_seed(7);
  EXPECT_GT(eval::isoscore(torch::randn({20000, 4}, torch::kDouble)), 0.99);
  // Points on one line (not through the origin): one dimension used.
  auto t = torch::randn({300, 1}, torch::kDouble);
  auto line = t * torch::tensor({{1.0, -2.0, 0.5, 3.0}}, torch::kDouble) + torch::tensor({{4.0, 1.0, -1.0, 2.0}}, torch::kDouble);
  EXPECT_NEAR(eval::isoscore(line), 0.0, 1e-9);
}

TEST(HcmaGeometry, IsoScoreMatchesAStepByStepRecomputation) {
  torch::manual_seed(11);
  for (int trial = 0; trial < 3; ++trial) {
    auto X = torch::randn({200, 6}, torch::kDouble).mm(torch::randn({6, 6}, torch::kDouble)) + 2.0;
    const double want = reference_isoscore(to_matrix(X));
    EXPECT_NEAR(eval::isoscore(X), want, 1e-10) << "trial " << trial;
    EXPECT_GT(want, 0.05);
    EXPECT_LT(want, 0.95);
  }
}

TEST(HcmaGeometry, BadTablesAreErrors) {
  auto empty = torch::zeros({0, 4});
  EXPECT_NE(error_of([&] { eval::isotropy_iw(empty); }).find("isotropy I(W): needs at least 1 rows"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::isotropy_iw(torch::ones({4})); }).find("2-D"), std::string::npos);
  auto nan = torch::ones({3, 3});
  nan[1][1] = std::nan("");
  EXPECT_NE(error_of([&] { eval::isotropy_iw(nan); }).find("NaN"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::isoscore(torch::ones({1, 4})); }).find("IsoScore: needs at least 2 rows"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::isoscore(torch::randn({5, 1})); }).find("at least 2 columns"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::isoscore(torch::ones({5, 3})); }).find("zero variance"), std::string::npos);
}

namespace {

model::GPTConfig stability_config() {
  auto c = model::testing::tiny_config(/*tied=*/false, /*bias=*/true);  // V 13, T 8, 2 layers, d 8
  return c;
}

data::TokenStream random_stream(const TempDir& dir, std::size_t n, std::int64_t V, std::uint64_t seed) {
  auto ids = model::testing::random_tokens(1, std::int64_t(n), V, seed);
  std::vector<std::uint32_t> tokens(n);
  for (std::size_t i = 0; i < n; ++i) tokens[i] = std::uint32_t(ids[0][std::int64_t(i)].item<std::int64_t>());
  data::write_shard(dir / "tokens.bin", tokens, std::size_t(V));
  return data::TokenStream({dir / "tokens.bin"});
}

struct Reference {
  double self_similarity = 0, knn_overlap = 0;
  std::int64_t types = 0, occurrences = 0;
};

// The same quantities one state at a time: each state from its own window's forward pass, each
// logit-lens top k on its own, cosines and intersections by loops.
Reference reference_stability(model::GPT& m, const data::TokenStream& stream, const eval::ContextStabilityOptions& o, int layer) {
  torch::NoGradGuard ng;
  m->eval();
  const std::size_t N = std::min(stream.size(), o.max_tokens), T = std::size_t(m->config().block_size);
  std::vector<std::int64_t> ids(N);
  stream.read(0, N, ids.data());
  std::map<std::int64_t, std::vector<std::size_t>> where;
  for (std::size_t p = 0; p < N; ++p) where[ids[p]].push_back(p);
  std::vector<std::pair<std::size_t, std::int64_t>> by_count;  // (-count as rank, id)
  for (auto& [id, ps] : where)
    if (ps.size() >= std::size_t(o.min_occurrences)) by_count.push_back({ps.size(), id});
  std::stable_sort(by_count.begin(), by_count.end(), [](auto& a, auto& b) { return a.first > b.first; });
  if (by_count.size() > std::size_t(o.max_types)) by_count.resize(std::size_t(o.max_types));

  Reference r;
  for (auto& [count, id] : by_count) {
    std::vector<std::vector<double>> states;
    std::vector<std::set<std::int64_t>> neighbours;
    for (std::size_t i = 0; i < std::min<std::size_t>(count, std::size_t(o.max_occurrences)); ++i) {
      const std::size_t p = where[id][i], start = p / T * T, len = std::min(T, N - start);
      auto window = torch::tensor(std::vector<std::int64_t>(ids.begin() + std::ptrdiff_t(start), ids.begin() + std::ptrdiff_t(start + len))).view({1, -1});
      auto h = m->hidden_states(window, layer)[0][std::int64_t(p - start)];
      auto c = h.contiguous();
      states.emplace_back(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
      auto logits = m->output_weight().mv(m->ln_f(h));
      auto top = std::get<1>(logits.topk(o.k));
      std::set<std::int64_t> s;
      for (std::int64_t j = 0; j < o.k; ++j) s.insert(top[j].item<std::int64_t>());
      neighbours.push_back(s);
    }
    double cos_sum = 0, overlap_sum = 0, pairs = 0;
    for (std::size_t a = 0; a < states.size(); ++a)
      for (std::size_t b = a + 1; b < states.size(); ++b) {
        double dot = 0, na = 0, nb = 0;
        for (std::size_t i = 0; i < states[a].size(); ++i) {
          dot += states[a][i] * states[b][i];
          na += states[a][i] * states[a][i];
          nb += states[b][i] * states[b][i];
        }
        cos_sum += dot / std::sqrt(na * nb);
        std::size_t common = 0;
        for (auto x : neighbours[a]) common += neighbours[b].count(x);
        overlap_sum += double(common) / o.k;
        pairs += 1;
      }
    r.self_similarity += cos_sum / pairs / double(by_count.size());
    r.knn_overlap += overlap_sum / pairs / double(by_count.size());
    r.occurrences += std::int64_t(states.size());
  }
  r.types = std::int64_t(by_count.size());
  return r;
}

}  // namespace

TEST(HcmaGeometry, ContextFreeStatesAreStable) {
  // With every block's output projections and the position embeddings zero, the residual stream
  // is wte(token) at every layer, whatever the context.
  const auto cfg = stability_config();
  auto m = model::testing::make_model(cfg, 1);
  {
    torch::NoGradGuard ng;
    m->wpe->weight.zero_();
    for (auto& b : m->blocks)
      for (auto* lin : {&b->attn->c_proj, &b->mlp->c_proj}) {
        (*lin)->weight.zero_();
        (*lin)->bias.zero_();
      }
  }
  TempDir dir;
  const auto stream = random_stream(dir, 600, cfg.vocab_size, 2);
  eval::ContextStabilityOptions o;
  o.k = 4;
  m->train();
  const auto r = eval::contextual_stability(m, stream, o);
  EXPECT_TRUE(m->is_training());  // mode restored
  EXPECT_NEAR(r.self_similarity, 1.0, 1e-12);
  EXPECT_NEAR(r.knn_overlap, 1.0, 1e-12);
  EXPECT_EQ(r.types, cfg.vocab_size);           // 600 tokens over 13 types: all occur >= 5 times
  EXPECT_EQ(r.occurrences, 20 * cfg.vocab_size);  // and >= 20 times
  EXPECT_LT(r.baseline_cosine, 0.9);            // random pairs are mostly of different types
  EXPECT_NEAR(r.self_similarity_adjusted, r.self_similarity - r.baseline_cosine, 1e-15);
}

TEST(HcmaGeometry, ContextualStabilityMatchesAStateByStateRecomputation) {
  const auto cfg = stability_config();
  auto m = model::testing::make_model(cfg, 4, /*matrix_std=*/0.5);
  TempDir dir;
  // 99 tokens in windows of 8: the last window is short.
  const auto stream = random_stream(dir, 120, cfg.vocab_size, 9);
  eval::ContextStabilityOptions o;
  o.max_tokens = 99;
  o.min_occurrences = 6;
  o.max_occurrences = 7;
  o.max_types = 5;
  o.k = 3;
  for (int layer : {-1, 0, 2}) {
    o.layer = layer;
    const auto r = eval::contextual_stability(m, stream, o);
    const auto want = reference_stability(m, stream, o, layer < 0 ? 1 : layer);
    EXPECT_EQ(r.types, want.types);
    EXPECT_EQ(r.occurrences, want.occurrences);
    EXPECT_NEAR(r.self_similarity, want.self_similarity, 1e-10) << "layer " << layer;
    EXPECT_NEAR(r.knn_overlap, want.knn_overlap, 1e-12) << "layer " << layer;
    if (layer != 0) {  // layer 0 is wte + wpe, context-free up to the position
      EXPECT_LT(r.self_similarity, 0.99);
      EXPECT_LT(r.knn_overlap, 0.99);
    }
    EXPECT_GT(r.baseline_cosine, -1.0);
    EXPECT_LT(r.baseline_cosine, r.self_similarity);
  }
  EXPECT_EQ(eval::contextual_stability(m, stream, o).baseline_cosine, eval::contextual_stability(m, stream, o).baseline_cosine);
}

TEST(HcmaGeometry, ContextualStabilityBadInput) {
  const auto cfg = stability_config();
  auto m = model::testing::make_model(cfg, 4);
  TempDir dir;
  const auto stream = random_stream(dir, 60, cfg.vocab_size, 9);
  auto err = [&](auto change) {
    eval::ContextStabilityOptions o;
    change(o);
    return error_of([&] { eval::contextual_stability(m, stream, o); });
  };
  EXPECT_NE(err([](auto& o) { o.layer = 3; }).find("contextual stability: layer 3"), std::string::npos);
  EXPECT_NE(err([](auto& o) { o.k = 14; }).find("k must be"), std::string::npos);
  EXPECT_NE(err([](auto& o) { o.min_occurrences = 1; }).find("occurrences"), std::string::npos);
  EXPECT_NE(err([](auto& o) { o.min_occurrences = 50; }).find("no token type occurs 50 times"), std::string::npos);
  data::write_shard(dir / "big.bin", {1, 2, 20, 3}, 100);
  const data::TokenStream outside({dir / "big.bin"});
  EXPECT_NE(error_of([&] { eval::contextual_stability(m, outside, {}); }).find("token id 20"), std::string::npos);
}

namespace {

// A vocabulary that holds " dog", " Dog", " canine", " cat", " feline", " truck" (and whatever
// pieces of them BPE keeps on the way).
text::Tokenizer animal_tokenizer() {
  std::string text;
  for (int i = 0; i < 30; ++i) text += " dog Dog canine cat feline truck";
  text::BpeTrainOptions o;
  o.vocab_size = 400;
  o.verbose = false;
  return text::Tokenizer::train({text}, o);
}

std::string lemma_of(const std::string& bytes) {
  std::string s = !bytes.empty() && bytes[0] == ' ' ? bytes.substr(1) : bytes;
  if (s.size() < 2) return "";
  for (char& c : s) {
    if (!std::isalpha((unsigned char)c) || (unsigned char)c >= 128) return "";
    c = char(std::tolower((unsigned char)c));
  }
  return s;
}

}  // namespace

TEST(HcmaGeometry, WordnetNeighboursOnADesignedTable) {
  const auto tok = animal_tokenizer();
  const std::int64_t V = std::int64_t(tok.vocab_size());
  for (const char* w : {" dog", " Dog", " canine", " cat", " feline", " truck"}) ASSERT_EQ(tok.encode(w).size(), 1u) << w;

  // Row id: e_id, so different tokens are orthogonal, plus a shared part by lemma: dog and canine
  // (cosine 0.8) share f1; truck, cat and feline share f2 with weights 3, 2, 1, so cat's nearest
  // is truck (0.85) before feline (0.63), and feline's is truck (0.67) before cat (0.63).
  const std::map<std::string, std::pair<int, double>> shared = {
      {"dog", {0, 2.0}}, {"canine", {0, 2.0}}, {"truck", {1, 3.0}}, {"cat", {1, 2.0}}, {"feline", {1, 1.0}}};
  auto E = torch::zeros({V + 3, V + 2}, torch::kDouble);  // 3 padding rows past the tokenizer's ids
  std::map<std::string, int> tokens_of;
  for (std::int64_t id = 0; id < V; ++id) {
    E[id][id] = 1.0;
    const std::string lemma = lemma_of(tok.token_bytes(text::TokenId(id)));
    ++tokens_of[lemma];
    auto it = shared.find(lemma);
    if (it != shared.end()) E[id][V + it->second.first] = it->second.second;
  }
  E[V][V] = 100.0;  // a padding row right next to dog: must not count
  ASSERT_GE(tokens_of["dog"], 2);  // " dog" and " Dog" at least: one lemma, several tokens

  const data::WordRelations relations = {
      {"dog", {"canine", "hound"}}, {"canine", {"dog"}}, {"cat", {"feline"}},
      {"feline", {"cat"}},          {"truck", {"lorry"}},  // lorry is no token: truck is no query
  };
  const std::int64_t queries = tokens_of["dog"] + tokens_of["canine"] + tokens_of["cat"] + tokens_of["feline"];

  // k = 1: the dogs and canines find each other (the other dog tokens do not count), the cats and
  // felines find a truck.
  auto r = eval::wordnet_neighbours(E, tok, relations, 1);
  EXPECT_EQ(r.queries, queries);
  EXPECT_EQ(r.k, 1);
  EXPECT_NEAR(r.hits, double(tokens_of["dog"] + tokens_of["canine"]) / double(queries), 1e-12);
  // Past the trucks, every query finds its relation.
  r = eval::wordnet_neighbours(E, tok, relations, tokens_of["truck"]);
  EXPECT_NEAR(r.hits, double(tokens_of["dog"] + tokens_of["canine"]) / double(queries), 1e-12);
  r = eval::wordnet_neighbours(E, tok, relations, tokens_of["truck"] + 1);
  EXPECT_NEAR(r.hits, 1.0, 1e-12);
  // k beyond the number of word tokens: everything is a neighbour.
  EXPECT_NEAR(eval::wordnet_neighbours(E.to(torch::kFloat), tok, relations, 10000).hits, 1.0, 1e-12);

  // No query at all.
  r = eval::wordnet_neighbours(E, tok, {{"truck", {"lorry"}}}, 5);
  EXPECT_EQ(r.queries, 0);
  EXPECT_TRUE(std::isnan(r.hits));

  EXPECT_NE(error_of([&] { eval::wordnet_neighbours(E.slice(0, 0, V - 1), tok, relations); }).find("fewer than the tokenizer's"),
            std::string::npos);
  EXPECT_NE(error_of([&] { eval::wordnet_neighbours(E, tok, relations, 0); }).find("k must be"), std::string::npos);
  EXPECT_NE(error_of([&] { eval::wordnet_neighbours(torch::zeros({V}), tok, relations); }).find("2-D"), std::string::npos);
}
