// CSTDE structured embedding initialisation: PPMI, randomized SVD, rescaling (see the header).
#include "cstde/structured_init.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/platform.h"
#include "data/shard.h"

namespace structlm::cstde {

using linalg::CsrMatrix;
using linalg::randomized_svd;
using linalg::SparseHStack;

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

}  // namespace

json StructuredInitStats::to_json() const {
  json j{{"source", source}};
  if (source == "trained") j.update(json{{"steps", steps}, {"rows", rows}, {"window", window}});
  j.update(json{{"tokens", tokens},
              {"pairs", pairs},
              {"nnz_counts", nnz_counts},
              {"nnz_ppmi_left", nnz_ppmi_left},
              {"nnz_ppmi_right", nnz_ppmi_right},
              {"rows_structured", rows_structured},
              {"rows_random", rows_random},
              {"rows_permuted", rows_permuted},
              {"seconds_count", seconds_count},
              {"seconds_ppmi", seconds_ppmi},
              {"seconds_svd", seconds_svd},
              {"seconds_svd_products", seconds_svd_products},
              {"seconds_total", seconds_total},
              {"peak_rss_mib", peak_rss_mib},
              {"singular_values", singular_values}});
  return j;
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
  const std::vector<std::uint64_t> unigram = std::move(counts.unigram);  // init_permute's bins
  counts = data::Cooccurrence();
  CsrMatrix right = linalg::transpose(left);  // C_right = C_leftᵀ (data/cooccurrence.h)
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
  const torch::Tensor structured = (a.row_nnz() > 0) & (emb.norm(2, 1) > 0);
  auto [table, replaced] = rescale_rows(emb, a.row_nnz() > 0, fallback, o.init_std * std::sqrt(double(d)));
  if (o.permute) {
    st.rows_permuted = permute_within_frequency_bins(table, unigram, structured, seed ^ 0x9e3779b97f4a7c15ull);
    say(o, "init_permute: %.0f of %.0f structured rows moved within their frequency bins", double(st.rows_permuted),
        double(replaced));
  }
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

std::int64_t permute_within_frequency_bins(torch::Tensor& table, const std::vector<std::uint64_t>& count,
                                           const torch::Tensor& structured, std::uint64_t seed) {
  const std::int64_t V = table.size(0);
  check(std::int64_t(count.size()) == V && structured.numel() == V, "structured init",
        "init_permute needs one count and one flag per row of the table");
  auto flags = structured.to(torch::kCPU, torch::kBool).contiguous();
  const bool* is_structured = flags.data_ptr<bool>();
  std::map<int, std::vector<std::int64_t>> bins;  // floor(log2 count) -> token ids, ascending
  for (std::int64_t t = 0; t < V; ++t)
    if (is_structured[t] && count[std::size_t(t)] >= 1) bins[63 - __builtin_clzll(count[std::size_t(t)])].push_back(t);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const torch::Tensor before = table.clone();
  std::int64_t moved = 0;
  torch::NoGradGuard no_grad;
  for (const auto& [bin, ids] : bins) {
    const auto n = std::int64_t(ids.size());
    if (n < 2) continue;
    auto perm = torch::randperm(n, gen, torch::kLong);
    auto to = torch::tensor(ids, torch::kLong);
    table.index_copy_(0, to, before.index_select(0, to.index_select(0, perm)));
    moved += (perm != torch::arange(n, torch::kLong)).sum().item<std::int64_t>();
  }
  return moved;
}

namespace {

data::CooccurrenceOptions counting_options(const StructuredInitOptions& o) {
  data::CooccurrenceOptions co;
  co.window = o.window;
  co.eot = o.eot;
  co.threads = o.threads;
  co.progress = o.progress;
  return co;
}

// Counts with `count`, then the rest of the pipeline; `st` keeps what the caller put in it.
template <typename Count>
torch::Tensor count_then_embed(Count count, const torch::Tensor& random_init, const StructuredInitOptions& o,
                               std::uint64_t seed, StructuredInitStats& st) {
  check(random_init.dim() == 2, "structured init", "the embedding table must be 2-D [vocab, d]");
  auto t = std::chrono::steady_clock::now();
  data::Cooccurrence counts = count(random_init.size(0));
  st.seconds_count = seconds_since(t);
  say(o, "counted %.0f tokens, %.0f distinct pairs in %.1fs", double(counts.tokens), double(counts.left.nnz()),
      st.seconds_count);
  return structured_embedding_from_counts(std::move(counts), random_init, o, seed, &st);
}

}  // namespace

data::Cooccurrence count_trained_cooccurrences(const TrainedTokens& tokens, std::int64_t vocab_size,
                                               const data::CooccurrenceOptions& o) {
  check(tokens.steps >= 1 && tokens.rows >= 1 && tokens.window >= 2 && bool(tokens.read_step), "structured init",
        "the trained tokens need steps, rows >= 1, windows of >= 2 tokens and a reader");
  const std::size_t per_step = std::size_t(tokens.rows) * std::size_t(tokens.window);
  // The counter reads in order, chunk by chunk; one step's batch is drawn at a time and kept
  // while the reads stay inside it.
  std::vector<std::int64_t> batch(per_step);
  std::int64_t held = -1;
  auto read = [&](std::size_t start, std::size_t n, std::int64_t* out) {
    while (n > 0) {
      const auto step = std::int64_t(start / per_step);
      if (step != held) {
        tokens.read_step(step, batch.data());
        held = step;
      }
      const std::size_t at = start % per_step, take = std::min(n, per_step - at);
      std::copy(batch.begin() + std::ptrdiff_t(at), batch.begin() + std::ptrdiff_t(at + take), out);
      out += take;
      start += take;
      n -= take;
    }
  };
  data::CooccurrenceOptions co = o;
  co.segment = std::size_t(tokens.window);  // every window a text of its own
  return data::count_cooccurrences(read, tokens.size(), vocab_size, co);
}

torch::Tensor structured_embedding(const data::TokenStream& train, const torch::Tensor& random_init,
                                   const StructuredInitOptions& o, std::uint64_t seed, StructuredInitStats* stats) {
  StructuredInitStats local;
  StructuredInitStats& st = stats ? *stats : local;
  st = StructuredInitStats();
  st.source = "split";
  return count_then_embed(
      [&](std::int64_t V) { return data::count_cooccurrences(train, V, counting_options(o)); }, random_init, o, seed,
      st);
}

torch::Tensor structured_embedding(const TrainedTokens& tokens, const torch::Tensor& random_init,
                                   const StructuredInitOptions& o, std::uint64_t seed, StructuredInitStats* stats) {
  StructuredInitStats local;
  StructuredInitStats& st = stats ? *stats : local;
  st = StructuredInitStats();
  st.source = "trained";
  st.steps = tokens.steps;
  st.rows = tokens.rows;
  st.window = tokens.window;
  return count_then_embed(
      [&](std::int64_t V) { return count_trained_cooccurrences(tokens, V, counting_options(o)); }, random_init, o,
      seed, st);
}

torch::Tensor structured_embedding(const data::TokenStream& train, std::int64_t vocab_size, std::int64_t d,
                                   const StructuredInitOptions& o, std::uint64_t seed, StructuredInitStats* stats) {
  check(vocab_size >= 1 && d >= 1, "structured init", "vocabulary size and width must be >= 1");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed ^ 0x5eedu);
  auto random_init = torch::randn({vocab_size, d}, gen, torch::kFloat32) * o.init_std;
  return structured_embedding(train, random_init, o, seed, stats);
}

}  // namespace structlm::cstde
