// Counting C_left in one pass over the corpus, in chunks, with one small hash table per row.
//
// Memory: 100M tokens × window 8 are 800M pair updates, but only the distinct (row, column) pairs
// are kept (≈136M for 100M Zipf tokens over 50k types; real text has fewer), at 12 bytes a slot
// while counting and 8 bytes an entry in the CSR result. A dense V×V table would be 10 GB of
// floats per matrix at V = 50257; sort-and-reduce of raw pair keys would be 800M × 8 bytes.
//
// Threads: thread t owns the rows r with r % T == t and every thread scans the whole chunk, so no
// table is shared and each row's additions happen in corpus order whatever T is: the counts are
// bitwise the same for any number of threads. Sums are kept in double while counting (a frequent
// pair gets millions of additions of 1/k) and rounded to float once at the end.
#include "data/cooccurrence.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/platform.h"
#include "core/progress.h"
#include "data/shard.h"

namespace structlm::data {

using linalg::CsrMatrix;

namespace {

// Open addressing with linear probing, keys stored as column + 1 (0 marks an empty slot),
// capacity a power of two, grown at 3/4 load.
class RowTable {
 public:
  void add(std::uint32_t col, double w) {
    if (keys_.empty()) rehash(4);
    const std::uint32_t key = col + 1;
    for (std::uint32_t h = slot(key);; h = (h + 1) & mask_) {
      if (keys_[h] == key) {
        vals_[h] += w;
        return;
      }
      if (keys_[h] == 0) {
        keys_[h] = key;
        vals_[h] = w;
        if (++size_ * 4 > keys_.size() * 3) rehash(keys_.size() * 2);
        return;
      }
    }
  }
  std::size_t size() const { return size_; }
  // Writes the entries sorted by column, then frees the table.
  void drain(std::int32_t* cols, float* vals) {
    std::vector<std::pair<std::uint32_t, double>> e;
    e.reserve(size_);
    for (std::size_t h = 0; h < keys_.size(); ++h)
      if (keys_[h]) e.emplace_back(keys_[h] - 1, vals_[h]);
    std::sort(e.begin(), e.end());
    for (std::size_t k = 0; k < e.size(); ++k) {
      cols[k] = static_cast<std::int32_t>(e[k].first);
      vals[k] = static_cast<float>(e[k].second);
    }
    std::vector<std::uint32_t>().swap(keys_);
    std::vector<double>().swap(vals_);
    size_ = 0;
  }

 private:
  std::uint32_t slot(std::uint32_t key) const { return (key * 0x9E3779B1u) >> shift_; }  // Fibonacci hashing
  void rehash(std::size_t cap) {
    std::vector<std::uint32_t> old_keys(cap, 0);
    std::vector<double> old_vals(cap, 0.0);
    old_keys.swap(keys_);
    old_vals.swap(vals_);
    mask_ = static_cast<std::uint32_t>(cap - 1);
    shift_ = 32 - __builtin_ctzll(cap);
    for (std::size_t h = 0; h < old_keys.size(); ++h) {
      if (!old_keys[h]) continue;
      std::uint32_t s = slot(old_keys[h]);
      while (keys_[s]) s = (s + 1) & mask_;
      keys_[s] = old_keys[h];
      vals_[s] = old_vals[h];
    }
  }
  std::vector<std::uint32_t> keys_;
  std::vector<double> vals_;
  std::size_t size_ = 0;
  std::uint32_t mask_ = 0;
  int shift_ = 32;
};

template <typename F>
void run_threads(int n, F f) {
  if (n == 1) return f(0);
  std::vector<std::thread> ts;
  for (int t = 0; t < n; ++t) ts.emplace_back(f, t);
  for (auto& t : ts) t.join();
}

}  // namespace

Cooccurrence count_cooccurrences(const TokenReader& read, std::size_t n_tokens, std::int64_t vocab_size,
                                 const CooccurrenceOptions& o) {
  const std::string where = "co-occurrence counts";
  check(o.window >= 1 && o.window <= 255, where, "window must be in [1, 255], got " + std::to_string(o.window));
  check(vocab_size > 0 && vocab_size < (std::int64_t(1) << 31) - 1, where,
        "vocabulary size must be in [1, 2^31 - 1), got " + std::to_string(vocab_size));
  const int w = o.window;
  const std::size_t kChunk = std::max<std::size_t>(o.chunk_tokens, w);  // >= w: the carried tail fits
  const int T = std::max(1, o.threads > 0 ? o.threads : available_cores());
  std::vector<double> weight(w + 1, 0.0);
  for (int k = 1; k <= w; ++k) weight[k] = 1.0 / k;

  Cooccurrence out;
  out.tokens = n_tokens;
  out.unigram.assign(vocab_size, 0);
  std::vector<RowTable> tables(vocab_size);
  std::vector<std::uint64_t> pairs_by_thread(T, 0);

  // buf holds the last w tokens of the previous chunk, then the chunk; reach[i] is how many of
  // the tokens before position i are in i's document and the window: min(w, i − doc start).
  std::vector<std::int64_t> buf(w + std::min(kChunk, n_tokens));
  std::vector<std::uint8_t> reach(buf.size() - w);
  std::size_t doc_start = 0;  // global position where the current document began
  std::unique_ptr<Progress> progress;
  if (o.progress && n_tokens >= (std::size_t(1) << 24)) progress = std::make_unique<Progress>(where, n_tokens);

  for (std::size_t start = 0; start < n_tokens; start += kChunk) {
    const std::size_t n = std::min(kChunk, n_tokens - start);
    if (start > 0) std::copy(buf.begin() + kChunk, buf.begin() + kChunk + w, buf.begin());  // previous chunk's tail
    std::int64_t* chunk = buf.data() + w;
    read(start, n, chunk);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t x = chunk[i];
      if (x < 0 || x >= vocab_size)
        fail(where, "token id " + std::to_string(x) + " at position " + std::to_string(start + i) +
                        " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
      ++out.unigram[x];
      if (x == o.eot || (o.segment > 0 && (start + i) % o.segment == 0)) doc_start = start + i;
      reach[i] = static_cast<std::uint8_t>(std::min<std::size_t>(w, start + i - doc_start));
    }
    run_threads(T, [&](int t) {
      std::uint64_t pairs = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t x = chunk[i];
        if (x % T != t) continue;
        RowTable& row = tables[x];
        const int r = reach[i];
        for (int k = 1; k <= r; ++k) row.add(static_cast<std::uint32_t>(chunk[i - k]), weight[k]);
        pairs += r;
      }
      pairs_by_thread[t] += pairs;
    });
    if (progress && start + n < n_tokens) progress->update(static_cast<std::int64_t>(start + n));  // finish() draws the last
  }
  if (progress) progress->finish();
  out.pairs = std::accumulate(pairs_by_thread.begin(), pairs_by_thread.end(), std::uint64_t(0));

  CsrMatrix& c = out.left;
  c.rows = c.cols = vocab_size;
  c.indptr.assign(vocab_size + 1, 0);
  for (std::int64_t r = 0; r < vocab_size; ++r) c.indptr[r + 1] = c.indptr[r] + tables[r].size();
  c.indices.resize(c.indptr.back());
  c.values.resize(c.indptr.back());
  run_threads(T, [&](int t) {
    for (std::int64_t r = t; r < vocab_size; r += T) tables[r].drain(&c.indices[c.indptr[r]], &c.values[c.indptr[r]]);
  });
  return out;
}

Cooccurrence count_cooccurrences(const TokenStream& stream, std::int64_t vocab_size, const CooccurrenceOptions& o) {
  return count_cooccurrences([&](std::size_t s, std::size_t n, std::int64_t* out) { stream.read(s, n, out); },
                             stream.size(), vocab_size, o);
}

Cooccurrence count_cooccurrences(const std::uint32_t* tokens, std::size_t n, std::int64_t vocab_size,
                                 const CooccurrenceOptions& o) {
  return count_cooccurrences([&](std::size_t s, std::size_t m, std::int64_t* out) { std::copy(tokens + s, tokens + s + m, out); },
                             n, vocab_size, o);
}

}  // namespace structlm::data
