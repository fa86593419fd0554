// Directional co-occurrence counts of a token corpus, as sparse CSR matrices: the counting half
// of CSTDE's structured embedding initialisation (docs/METHODS.md §1a, docs/CSTDE.md). No torch
// here: the counts are plain arrays, so they build and test without it, and a 50k vocabulary never
// needs a dense V×V matrix (10 GB of floats).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "linalg/csr.h"

namespace structlm::data {

class TokenStream;

struct CooccurrenceOptions {
  int window = 8;          // w: pairs j < i with i − j <= w
  std::int64_t eot = -1;   // <|endoftext|>: starts each document; < 0: no document boundaries
  int threads = 0;         // 0: all available cores
  bool progress = true;    // a progress line with ETA on stderr for large corpora
  std::size_t chunk_tokens = std::size_t(1) << 22;  // read at a time (32 MiB as int64); any size gives the same counts
  // > 0: the corpus is a sequence of independent texts of this many tokens each (a training run's
  // windows, read one after another): position p starts a new document when p % segment == 0,
  // as an EOT would, so no pair crosses from one text into the next. 0: one continuous corpus.
  std::size_t segment = 0;
};

// C_left[a, b] = Σ over pairs j < i, i − j <= w, x_i = a, x_j = b, both in one document, of
// 1 / (i − j): how much b appears shortly *before* a. C_right[x_j, x_i] gets the same weight, so
// C_right = C_leftᵀ exactly; only C_left is counted (half the memory and time) and C_right is its
// transpose.
// Documents: our shards put <|endoftext|> at the *start* of every document (data/tokenize.h), so
// an EOT token opens a new document that it belongs to. Pairs (EOT, later token of its document)
// count; no pair has its two ends in different documents (a token before an EOT and the EOT or
// anything after it). Tokens before the first EOT form a document of their own.
struct Cooccurrence {
  linalg::CsrMatrix left;          // V × V, C_left as above (linalg/csr.h)
  std::uint64_t tokens = 0;        // tokens read
  std::uint64_t pairs = 0;         // pair updates made
  std::vector<std::uint64_t> unigram;  // occurrences of each token id
};

// Reads tokens [start, start + n) into out: how the counter reads any corpus in chunks.
using TokenReader = std::function<void(std::size_t start, std::size_t n, std::int64_t* out)>;

Cooccurrence count_cooccurrences(const TokenReader& read, std::size_t n_tokens, std::int64_t vocab_size,
                                 const CooccurrenceOptions& o);
Cooccurrence count_cooccurrences(const TokenStream& stream, std::int64_t vocab_size, const CooccurrenceOptions& o);
Cooccurrence count_cooccurrences(const std::uint32_t* tokens, std::size_t n, std::int64_t vocab_size,
                                 const CooccurrenceOptions& o);

}  // namespace structlm::data
