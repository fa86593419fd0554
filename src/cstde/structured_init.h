// CSTDE structured embedding initialisation (docs/METHODS.md §1a, docs/CSTDE.md): the input
// embedding table E built from the training split's directional co-occurrences instead of noise.
//   counts (data/cooccurrence.h) → PPMI of C_left and of C_right → randomized truncated SVD of
//   [PPMI_left | PPMI_right] (V × 2V, sparse) to rank d → U·S^{1/2} → each row rescaled to the
//   random init's expected norm init_std·√d; tokens without co-occurrences keep the random init.
// Everything stays sparse or V × (d + oversample): no V × V dense matrix at any point.
//
// From the trainer, with the model already randomly initialised:
//   cstde::StructuredInitOptions o;  o.eot = tokenizer.eot();  o.window = ...;
//   cstde::StructuredInitStats st;
//   auto E = cstde::structured_embedding(train_data, model->wte->weight, o, cfg.train.seed, &st);  // "split"
//   (or a TrainedTokens in place of train_data: the windows the run trains on, "trained")
//   torch::NoGradGuard g;  model->wte->weight.copy_(E);   // log st.to_json()
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "data/cooccurrence.h"
#include "linalg/randomized_svd.h"

namespace structlm::data {
class TokenStream;
}

namespace structlm::cstde {

struct StructuredInitOptions {
  int window = 8;            // co-occurrence window w
  double smoothing = 0.75;   // context-distribution smoothing exponent α of the PPMI
  int oversample = 10;       // randomized SVD: extra columns p of the sketch
  int power_iters = 2;       // randomized SVD: power iterations q
  double init_std = 0.02;    // the random init's std; rows get norm init_std·√d
  std::int64_t eot = -1;     // <|endoftext|> id: document boundary (< 0: none)
  int threads = 0;           // counting threads (0: all cores); torch parts use torch's threads
  bool progress = true;      // progress line and per-stage lines on stderr
  bool permute = false;      // model.cstde.init_permute: permute_within_frequency_bins afterwards
};

// The tokens a training run will train on, in the order it reads them (model.cstde.init_tokens
// "trained"): `steps` batches of `rows` windows of `window` tokens; read_step(s, out) writes step
// s's rows × window tokens, row-major, as the trainer draws them. Each window is a text of its own
// for the counts (no pair crosses from one window into the next, as none does in training), and a
// window read twice counts twice, as it is trained on twice.
struct TrainedTokens {
  std::int64_t steps = 0, rows = 0, window = 0;
  std::function<void(std::int64_t step, std::int64_t* out)> read_step;
  std::size_t size() const { return std::size_t(steps) * std::size_t(rows) * std::size_t(window); }
};

// The co-occurrence counts of those windows (data/cooccurrence.h's rules inside each window).
data::Cooccurrence count_trained_cooccurrences(const TrainedTokens& tokens, std::int64_t vocab_size,
                                               const data::CooccurrenceOptions& o);

struct StructuredInitStats {
  std::string source;                           // "split" or "trained" (model.cstde.init_tokens)
  std::int64_t steps = 0, rows = 0, window = 0; // "trained": the batches counted
  std::uint64_t tokens = 0, pairs = 0;          // tokens read, pair updates counted
  std::int64_t nnz_counts = 0;                  // distinct (token, context) pairs of C_left
  std::int64_t nnz_ppmi_left = 0, nnz_ppmi_right = 0;  // positive entries kept
  std::int64_t rows_structured = 0, rows_random = 0;   // E rows from the SVD / kept random
  std::int64_t rows_permuted = 0;               // init_permute: structured rows given another token's
  double seconds_count = 0, seconds_ppmi = 0, seconds_svd = 0, seconds_total = 0;
  double seconds_svd_products = 0;              // part of seconds_svd spent in sparse products
  double peak_rss_mib = 0;                      // VmHWM after the last stage
  std::vector<double> singular_values;          // the d leading ones of [PPMI_left | PPMI_right]
  json to_json() const;
};

// E1's control arm (model.cstde.init_permute): the rows of the tokens in `structured` shuffled
// among the tokens of the same frequency bin, floor(log2(count[t])) (count >= 1), by a generator
// seeded with `seed`; other rows stay. A row permutation keeps the table's singular values and
// each row's norm; only which token holds which row changes. Returns the rows that moved.
std::int64_t permute_within_frequency_bins(torch::Tensor& table, const std::vector<std::uint64_t>& count,
                                           const torch::Tensor& structured, std::uint64_t seed);

// The whole initialisation. `random_init` (V × d) is the model's current E: its shape gives V and
// d, and its rows are kept for tokens that never co-occur. `seed` drives the SVD's test matrix.
torch::Tensor structured_embedding(const data::TokenStream& train, const torch::Tensor& random_init,
                                   const StructuredInitOptions& o, std::uint64_t seed,
                                   StructuredInitStats* stats = nullptr);
// The same, counted on the windows a run trains on instead of a whole split.
torch::Tensor structured_embedding(const TrainedTokens& tokens, const torch::Tensor& random_init,
                                   const StructuredInitOptions& o, std::uint64_t seed,
                                   StructuredInitStats* stats = nullptr);
// The same with a fresh random init, N(0, init_std²) from `seed`.
torch::Tensor structured_embedding(const data::TokenStream& train, std::int64_t vocab_size, std::int64_t d,
                                   const StructuredInitOptions& o, std::uint64_t seed,
                                   StructuredInitStats* stats = nullptr);
// From counts already made (benchmarks, tests, corpora not in shards); consumes them.
torch::Tensor structured_embedding_from_counts(data::Cooccurrence&& counts, const torch::Tensor& random_init,
                                               const StructuredInitOptions& o, std::uint64_t seed,
                                               StructuredInitStats* stats = nullptr);

// ---- The stages, exposed for tests and the benchmark. ----

// Positive PMI with context-distribution smoothing (Levy, Goldberg & Dagan 2015), rows = words w,
// columns = contexts c; entries that are not positive are dropped. See the .cpp for the formula.
linalg::CsrMatrix ppmi(const linalg::CsrMatrix& counts, double alpha);

// Each row of u_sqrt_s scaled to L2 norm `norm`; rows where `use` is false, or whose norm is 0,
// come from `fallback`. Returns the table and how many rows were replaced.
std::pair<torch::Tensor, std::int64_t> rescale_rows(const torch::Tensor& u_sqrt_s, const torch::Tensor& use,
                                                    const torch::Tensor& fallback, double norm);

}  // namespace structlm::cstde
