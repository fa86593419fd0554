// Duplicate documents, found before a corpus is split: the same text twice (or nearly) would sit
// in train and in test, and a held-out score would measure memory, not modelling.
//
//   exact  the same text after normalisation (ASCII letters lower-cased, every run of whitespace
//          one space, ends trimmed), compared by two independent 64-bit hashes of it (128 bits:
//          a false match among a billion documents has probability below 1e-20).
//   near   MinHash over the set of word 5-gram shingles of the normalised text (128 hashes, 16
//          bands of 8 rows for locality-sensitive hashing); a candidate pair from a shared band
//          is a duplicate when its estimated Jaccard similarity is at least `threshold` (0.8).
//          With 16 x 8 bands a pair at similarity 0.8 becomes a candidate with probability
//          1 - (1 - 0.8^8)^16 = 0.95, at 0.9 with 0.9998, at 0.5 with 0.06 (then rejected by the
//          estimate).
// Documents are taken in order; each is kept unless it duplicates one kept before it, so the
// first of every group stays and the result does not depend on anything but the input order.
// No torch here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/flat_hash.h"

namespace structlm::data {

std::string normalize_for_dedup(std::string_view text);

struct DedupOptions {
  int shingle_words = 5;
  double threshold = 0.8;  // estimated Jaccard similarity of the shingle sets
};

struct DedupCounts {
  std::size_t kept = 0, exact = 0, near = 0;
};

// Streaming: one document at a time, keeping per kept document its 128 x 4-byte signature (in
// blocks, never reallocated), its 16-byte text key and 16 band entries of 8 bytes, in flat tables
// at most 3/4 full: about 800 bytes a kept document (a million take about 0.8 GB).
class Deduplicator {
 public:
  static constexpr int kHashes = 128, kBands = 16, kRows = 8;
  explicit Deduplicator(DedupOptions options = {});
  enum class Verdict { keep, exact_duplicate, near_duplicate };
  // The verdict for `text` against every document kept so far; a kept one is remembered.
  Verdict add(std::string_view text);
  const DedupCounts& counts() const { return counts_; }
  // The MinHash signature of a normalised text (normalize_for_dedup).
  std::vector<std::uint32_t> signature(const std::string& normalised) const;

 private:
  using Signature = std::vector<std::uint32_t>;
  static constexpr std::size_t kBlock = 1024;  // signatures a block holds
  const std::uint32_t* kept_sig(std::size_t index) const {
    return blocks_[index / kBlock].get() + (index % kBlock) * std::size_t(kHashes);
  }
  // Band b's table: a slot is (top 32 bits of the band key) << 32 | (kept index + 1), 0 empty,
  // placed by the key's low bits; a tag match is confirmed against the kept signature's own key.
  void band_insert(int band, std::uint64_t key, std::uint32_t index);
  DedupOptions opt_;
  DedupCounts counts_;
  std::vector<std::uint64_t> seeds_;
  detail::Hash128Set text_keys_;  // the (hash 1, hash 2) of each kept text
  std::vector<std::unique_ptr<std::uint32_t[]>> blocks_;  // kept signatures, kBlock a block
  std::vector<std::vector<std::uint64_t>> bands_;  // kBands tables, sizes powers of 2
};

// How many duplicates sources hold, within each and against the sources before it
// (`structlm prepare --duplicates A B ...`): a Deduplicator per source for the first, one shared
// by all sources, fed in order, for the second. Counts only; nothing is removed.
struct SourceDuplicates {
  std::string name;
  std::size_t documents = 0;
  std::size_t exact = 0, near = 0;  // within the source (the first copy not counted)
  // Further documents that duplicate an earlier source's: the shared pass's duplicates less the
  // source's own. Near-duplicate matching is not transitive, so this is a count, not a set.
  std::size_t earlier = 0;
};

class DuplicateCensus {
 public:
  explicit DuplicateCensus(DedupOptions options = {}) : options_(options), shared_(options) {}
  // `texts` are one source's documents, in its order.
  template <typename Texts>
  const SourceDuplicates& add_source(const std::string& name, const Texts& texts) {
    start_source(name);
    for (const auto& t : texts) add(t);
    return finish_source();
  }
  // The same, streamed: start_source, add() each of its texts in order, finish_source.
  void start_source(const std::string& name) {
    own_ = std::make_unique<Deduplicator>(options_);
    before_ = shared_.counts();
    row_ = SourceDuplicates{};
    row_.name = name;
  }
  void add(std::string_view text) {
    ++row_.documents;
    own_->add(text);
    shared_.add(text);
  }
  const SourceDuplicates& finish_source() {
    row_.exact = own_->counts().exact;
    row_.near = own_->counts().near;
    const std::size_t shared = shared_.counts().exact + shared_.counts().near - before_.exact - before_.near;
    row_.earlier = shared > row_.exact + row_.near ? shared - row_.exact - row_.near : 0;
    own_.reset();
    rows_.push_back(row_);
    return rows_.back();
  }
  const std::vector<SourceDuplicates>& rows() const { return rows_; }

 private:
  DedupOptions options_;
  Deduplicator shared_;
  std::unique_ptr<Deduplicator> own_;
  DedupCounts before_;
  SourceDuplicates row_;
  std::vector<SourceDuplicates> rows_;
};

// MinHash's estimate of the Jaccard similarity of two documents' shingle sets (tests, docs).
double estimated_similarity(std::string_view a, std::string_view b, const DedupOptions& options = {});
// The exact Jaccard similarity of the word-shingle sets, for checking the estimate.
double shingle_jaccard(std::string_view a, std::string_view b, int shingle_words = 5);

}  // namespace structlm::data
