#include "eval/geometry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.h"
#include "core/rng.h"
#include "eval/mode_guard.h"

namespace structlm::eval {

namespace F = torch::nn::functional;

namespace {

// A finite 2-D table with at least min_rows rows and min_cols columns, as a CPU float64 copy.
torch::Tensor checked_table(const torch::Tensor& E, const std::string& where, std::int64_t min_rows, std::int64_t min_cols) {
  check(E.defined() && E.dim() == 2, where, "needs a 2-D table [N, d]");
  check(E.size(0) >= min_rows, where, "needs at least " + std::to_string(min_rows) + " rows, got " + std::to_string(E.size(0)));
  check(E.size(1) >= min_cols, where, "needs at least " + std::to_string(min_cols) + " columns, got " + std::to_string(E.size(1)));
  auto X = E.detach().to(torch::kCPU, torch::kDouble);
  check(torch::isfinite(X).all().item<bool>(), where, "the table holds NaN or infinite values");
  return X;
}

// Rows scaled to unit length (a zero row stays zero, so its cosines are 0).
torch::Tensor unit_rows(const torch::Tensor& X) { return F::normalize(X, F::NormalizeFuncOptions().dim(1).eps(1e-12)); }

}  // namespace

double isotropy_iw(const torch::Tensor& E) {
  torch::NoGradGuard no_grad;
  const auto W = checked_table(E, "isotropy I(W)", 1, 1);
  // Both c and -c are unit eigenvectors of W^T W; taking both makes I(W) independent of the sign
  // the eigensolver happens to return (Z(c) and Z(-c) differ whenever the mean is not 0).
  const auto U = std::get<1>(torch::linalg_eigh(W.t().mm(W)));  // columns: eigenvectors
  const auto P = W.mm(U);                                        // [V, d]: c . w
  // log Z(c) by log-sum-exp: exp(c . w) overflows float64 once c . w > 709.
  const auto logZ = torch::cat({torch::logsumexp(P, {0}), torch::logsumexp(-P, {0})});
  return std::exp((logZ.min() - logZ.max()).item<double>());
}

double isoscore(const torch::Tensor& E) {
  torch::NoGradGuard no_grad;
  // Rudman et al. 2022, Algorithm 1, step 1: a point cloud X of N points in R^n.
  const auto X = checked_table(E, "IsoScore", 2, 2);
  const double n = double(X.size(1)), N = double(X.size(0));
  // Step 2: reorient X by PCA: centre it, project onto the principal axes (the eigenvectors of
  // its covariance).
  const auto Xc = X - X.mean(0, true);
  const auto U = std::get<1>(torch::linalg_eigh(Xc.t().mm(Xc) / (N - 1)));
  const auto Xpca = Xc.mm(U);
  // Step 3: the variance vector, the diagonal of the reoriented points' covariance.
  const auto var = Xpca.pow(2).sum(0) / (N - 1);
  const double norm = var.norm().item<double>();
  check(norm > 0, "IsoScore", "the points have zero variance (all rows equal)");
  // Step 4: normalise it to length sqrt(n), the length of the isotropic variance vector 1_n.
  const auto var_hat = var * (std::sqrt(n) / norm);
  // Step 5: the isotropy defect, the distance to 1_n over its largest possible value
  // sqrt(2 (n - sqrt n)) (all variance in one direction); in [0, 1].
  const double defect = (var_hat - 1.0).norm().item<double>() / std::sqrt(2.0 * (n - std::sqrt(n)));
  // Step 6: the fraction of dimensions used, phi = (n - defect^2 (n - sqrt n))^2 / n^2, in [1/n, 1].
  const double used = n - defect * defect * (n - std::sqrt(n));
  const double phi = used * used / (n * n);
  // Step 7: IsoScore = (n phi - 1) / (n - 1), phi rescaled from [1/n, 1] to [0, 1]. Clamped
  // only against rounding at the two ends.
  return std::clamp((n * phi - 1.0) / (n - 1.0), 0.0, 1.0);
}

// The states at `layer` of the given positions of `ids`, read in non-overlapping windows of
// block_size tokens as evaluate() reads the text, so each state has the context a scored token
// would have. Only windows holding a position run; windows of one length are batched.
torch::Tensor states_at(model::CausalLM& model, const std::vector<std::int64_t>& ids, std::size_t N,
                        const std::vector<std::size_t>& positions, int layer) {
  const auto param = model.module().parameters().front();
  const torch::Device device = param.device();
  const std::size_t T = std::size_t(model.context_length());
  constexpr std::size_t kBatch = 16;
  std::vector<torch::Tensor> gathered;
  std::size_t next = 0;  // first position not yet gathered
  while (next < positions.size()) {
    std::vector<std::size_t> windows;  // window starts
    const std::size_t len = std::min(T, N - positions[next] / T * T);
    std::vector<std::int64_t> flat;  // row-in-batch * len + offset of each gathered position
    while (next < positions.size() && windows.size() < kBatch) {
      const std::size_t start = positions[next] / T * T;
      if (std::min(T, N - start) != len) break;
      for (; next < positions.size() && positions[next] < start + len; ++next)
        flat.push_back(std::int64_t(windows.size() * len + (positions[next] - start)));
      windows.push_back(start);
    }
    std::vector<std::int64_t> batch(windows.size() * len);
    for (std::size_t w = 0; w < windows.size(); ++w) std::copy_n(ids.begin() + std::ptrdiff_t(windows[w]), len, batch.begin() + std::ptrdiff_t(w * len));
    auto idx = torch::from_blob(batch.data(), {std::int64_t(windows.size()), std::int64_t(len)}, torch::kLong).to(device);
    auto h = model.residual_stream(idx, layer).reshape({-1, model.width()});
    gathered.push_back(h.index_select(0, torch::tensor(flat).to(device)));
  }
  return torch::cat(gathered);
}

// k-NN overlap through the logit lens: the k vocabulary ids whose output rows score highest
// against ln_f(state), in chunks so that [chunk, V] logits stay small for V = 50k; then the mean
// share of ids two occurrences of a type have in common, averaged over types.
double knn_overlap(model::CausalLM& model, const torch::Tensor& states, const std::vector<std::vector<std::int64_t>>& rows,
                   std::int64_t k) {
  const std::int64_t R = states.size(0);
  double overlap = 0;
  constexpr std::int64_t kChunk = 256;
  std::vector<torch::Tensor> top;
  for (std::int64_t s = 0; s < R; s += kChunk) {
    const auto logits = model.logits_from_residual(states.slice(0, s, std::min(R, s + kChunk)));
    top.push_back(std::get<1>(logits.topk(k, 1)).to(torch::kCPU));
  }
  const auto nn = std::get<0>(torch::cat(top).sort(1)).contiguous();  // sorted ids, for set_intersection
  const std::int64_t* nn_ids = nn.data_ptr<std::int64_t>();
  std::vector<std::int64_t> common(static_cast<std::size_t>(k));
  for (const auto& rs : rows) {
    double sum = 0;
    for (std::size_t i = 0; i < rs.size(); ++i)
      for (std::size_t j = i + 1; j < rs.size(); ++j) {
        const std::int64_t* x = nn_ids + rs[i] * k;
        const std::int64_t* y = nn_ids + rs[j] * k;
        sum += double(std::set_intersection(x, x + k, y, y + k, common.begin()) - common.begin()) / k;
      }
    const double m = double(rs.size());
    overlap += sum / (m * (m - 1) / 2);
  }
  return overlap / double(rows.size());
}

ContextStability contextual_stability(model::CausalLM& model, const data::TokenStream& stream,
                                      const ContextStabilityOptions& opt) {
  const std::string where = "contextual stability";
  const int n_layer = model.num_layers();
  const std::int64_t V = model.vocabulary_rows();
  const int layer = opt.layer < 0 ? n_layer / 2 : opt.layer;
  check(opt.layer >= -1 && layer <= n_layer, where,
        "layer " + std::to_string(opt.layer) + " outside 0.." + std::to_string(n_layer) + " (or -1: the middle)");
  check(opt.min_occurrences >= 2 && opt.max_occurrences >= 2, where, "pairs of occurrences need min and max occurrences >= 2");
  check(opt.max_types >= 1, where, "max_types must be >= 1");
  check(opt.k >= 1 && opt.k <= V, where, "k must be in 1..vocab size (" + std::to_string(V) + ")");

  const std::size_t N = opt.max_tokens ? std::min(stream.size(), opt.max_tokens) : stream.size();
  std::vector<std::int64_t> ids(N);
  stream.read(0, N, ids.data());
  std::vector<std::int64_t> count(std::size_t(V), 0);
  for (std::int64_t id : ids) {
    if (id < 0 || id >= V)
      fail(where, "token id " + std::to_string(id) + " is outside the model's vocabulary (" + std::to_string(V) + ")");
    ++count[std::size_t(id)];
  }
  // The most frequent qualifying types, ties by id so the choice is deterministic.
  std::vector<std::int64_t> types;
  for (std::int64_t t = 0; t < V; ++t)
    if (count[std::size_t(t)] >= opt.min_occurrences) types.push_back(t);
  std::sort(types.begin(), types.end(), [&](std::int64_t a, std::int64_t b) {
    return count[std::size_t(a)] != count[std::size_t(b)] ? count[std::size_t(a)] > count[std::size_t(b)] : a < b;
  });
  if (types.size() > std::size_t(opt.max_types)) types.resize(std::size_t(opt.max_types));
  if (types.empty())
    fail(where, "no token type occurs " + std::to_string(opt.min_occurrences) + " times in the first " + std::to_string(N) + " tokens");

  // The first max_occurrences positions of each chosen type; states are gathered in position
  // order, so rows[slot] lists the state rows of type types[slot].
  std::unordered_map<std::int64_t, std::size_t> slot_of;
  for (std::size_t s = 0; s < types.size(); ++s) slot_of[types[s]] = s;
  std::vector<std::vector<std::int64_t>> rows(types.size());
  std::vector<std::size_t> positions;
  for (std::size_t p = 0; p < N; ++p) {
    auto it = slot_of.find(ids[p]);
    if (it == slot_of.end() || rows[it->second].size() >= std::size_t(opt.max_occurrences)) continue;
    rows[it->second].push_back(std::int64_t(positions.size()));
    positions.push_back(p);
  }

  EvalGuard guard(model);  // eval mode + no grad, training mode restored on return
  const auto states = states_at(model, ids, N, positions, layer);  // model dtype, on the model's device
  const auto unit = unit_rows(states.to(torch::kCPU, torch::kDouble));
  const std::int64_t R = unit.size(0);

  ContextStability r;
  r.types = std::int64_t(types.size());
  r.occurrences = R;

  // Self-similarity: mean cosine over the m(m-1)/2 pairs of a type's states, from the Gram matrix
  // of unit rows (its off-diagonal sum counts each pair twice).
  for (const auto& rs : rows) {
    const auto U = unit.index_select(0, torch::tensor(rs));
    const double m = double(rs.size());
    r.self_similarity += (U.mm(U.t()).sum().item<double>() - m) / (m * (m - 1));
  }
  r.self_similarity /= double(types.size());

  // Anisotropy baseline (Ethayarajh 2019): the mean cosine of random pairs of distinct states,
  // whatever their types, drawn with replacement from a seeded stream.
  constexpr int kBaselinePairs = 10000;
  SplitMix64 rng(opt.seed);
  std::vector<std::int64_t> a(kBaselinePairs), b(kBaselinePairs);
  for (int i = 0; i < kBaselinePairs; ++i) {
    a[std::size_t(i)] = std::int64_t(rng.below(std::uint64_t(R)));
    const auto j = std::int64_t(rng.below(std::uint64_t(R - 1)));
    b[std::size_t(i)] = j >= a[std::size_t(i)] ? j + 1 : j;
  }
  r.baseline_cosine = (unit.index_select(0, torch::tensor(a)) * unit.index_select(0, torch::tensor(b))).sum(1).mean().item<double>();
  r.self_similarity_adjusted = r.self_similarity - r.baseline_cosine;

  r.knn_overlap = knn_overlap(model, states, rows, opt.k);
  return r;
}

NeighbourRetrieval wordnet_neighbours(const torch::Tensor& E, const text::Tokenizer& tok,
                                      const data::WordRelations& relations, int k) {
  const std::string where = "WordNet neighbours";
  torch::NoGradGuard no_grad;
  const std::int64_t V = std::int64_t(tok.vocab_size());
  // A model's table may have more rows than the tokenizer has ids (a vocabulary padded to a
  // multiple of 64): those rows decode to nothing and are never words.
  check(E.defined() && E.dim() == 2 && E.size(1) >= 1, where, "needs a 2-D embedding table [V, d]");
  check(E.size(0) >= V, where, "the table has " + std::to_string(E.size(0)) + " rows, fewer than the tokenizer's " + std::to_string(V) + " ids");
  check(k >= 1, where, "k must be >= 1");

  // Word tokens: [space]letters, at least two letters; several may share a lemma ("Dog", " dog").
  std::vector<std::int64_t> word_ids, word_lemma;
  std::vector<std::string> lemmas;
  std::unordered_map<std::string, std::int64_t> lemma_index;
  for (std::int64_t id = 0; id < V; ++id) {
    std::string s = tok.token_bytes(text::TokenId(id));
    if (!s.empty() && s[0] == ' ') s.erase(0, 1);
    if (s.size() < 2 || !std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }))
      continue;
    for (char& c : s) c = char(std::tolower((unsigned char)c));
    auto [it, fresh] = lemma_index.emplace(s, std::int64_t(lemmas.size()));
    if (fresh) lemmas.push_back(s);
    word_ids.push_back(id);
    word_lemma.push_back(it->second);
  }
  // Each lemma's relations that are lemmas of some word token, sorted for binary search.
  std::vector<std::vector<std::int64_t>> related(lemmas.size());
  for (std::size_t l = 0; l < lemmas.size(); ++l) {
    auto rel = relations.find(lemmas[l]);
    if (rel == relations.end()) continue;
    for (const auto& other : rel->second) {
      auto it = lemma_index.find(other);
      if (it != lemma_index.end()) related[l].push_back(it->second);
    }
    std::sort(related[l].begin(), related[l].end());
  }
  std::vector<std::int64_t> queries;  // indices into word_ids
  for (std::size_t w = 0; w < word_ids.size(); ++w)
    if (!related[std::size_t(word_lemma[w])].empty()) queries.push_back(std::int64_t(w));

  NeighbourRetrieval r;
  r.k = k;
  r.queries = std::int64_t(queries.size());
  if (queries.empty()) {
    r.hits = std::numeric_limits<double>::quiet_NaN();  // no query: no share to report
    return r;
  }

  // Cosines against all word tokens, a chunk of queries at a time ([chunk, words] stays small
  // for a 50k vocabulary); tokens of the query's own lemma are masked out before the top k.
  const auto unit = unit_rows(E.detach().index_select(0, torch::tensor(word_ids).to(E.device())).to(torch::kCPU, torch::kFloat));
  const auto lemma_t = torch::tensor(word_lemma);
  const std::int64_t kk = std::min<std::int64_t>(k, unit.size(0));
  constexpr std::size_t kChunk = 256;
  std::int64_t hits = 0;
  for (std::size_t s = 0; s < queries.size(); s += kChunk) {
    const std::vector<std::int64_t> chunk(queries.begin() + std::ptrdiff_t(s),
                                          queries.begin() + std::ptrdiff_t(std::min(queries.size(), s + kChunk)));
    const auto q = torch::tensor(chunk);
    auto sim = unit.index_select(0, q).mm(unit.t());
    sim.masked_fill_(lemma_t.index_select(0, q).unsqueeze(1) == lemma_t.unsqueeze(0), -std::numeric_limits<float>::infinity());
    const auto [val, idx] = sim.topk(kk, 1);
    const auto v = val.accessor<float, 2>();
    const auto ix = idx.accessor<std::int64_t, 2>();
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      const auto& rel = related[std::size_t(word_lemma[std::size_t(chunk[i])])];
      for (std::int64_t j = 0; j < kk && !std::isinf(v[std::int64_t(i)][j]); ++j)  // -inf: fewer than k other-lemma words
        if (std::binary_search(rel.begin(), rel.end(), word_lemma[std::size_t(ix[std::int64_t(i)][j])])) {
          ++hits;
          break;
        }
    }
  }
  r.hits = double(hits) / double(queries.size());
  return r;
}

}  // namespace structlm::eval
