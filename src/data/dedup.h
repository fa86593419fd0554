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
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace structlm::data {

std::string normalize_for_dedup(std::string_view text);

struct DedupOptions {
  int shingle_words = 5;
  double threshold = 0.8;  // estimated Jaccard similarity of the shingle sets
};

struct DedupCounts {
  std::size_t kept = 0, exact = 0, near = 0;
};

// Streaming: one document at a time, keeping per kept document its 128 x 4-byte signature, its
// 16-byte text key and 16 band entries (about 1 KB: 100k documents take about 100 MB).
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
  DedupOptions opt_;
  DedupCounts counts_;
  std::vector<std::uint64_t> seeds_;
  std::unordered_map<std::uint64_t, std::vector<std::uint64_t>> text_keys_;  // hash 1 -> hash 2s
  std::vector<Signature> kept_sig_;
  std::vector<std::unordered_multimap<std::uint64_t, std::size_t>> bands_;  // band hash -> kept index
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
    Deduplicator own(options_);
    const DedupCounts before = shared_.counts();
    SourceDuplicates row;
    row.name = name;
    for (const auto& t : texts) {
      ++row.documents;
      own.add(t);
      shared_.add(t);
    }
    row.exact = own.counts().exact;
    row.near = own.counts().near;
    const std::size_t shared = shared_.counts().exact + shared_.counts().near - before.exact - before.near;
    row.earlier = shared > row.exact + row.near ? shared - row.exact - row.near : 0;
    rows_.push_back(row);
    return rows_.back();
  }
  const std::vector<SourceDuplicates>& rows() const { return rows_; }

 private:
  DedupOptions options_;
  Deduplicator shared_;
  std::vector<SourceDuplicates> rows_;
};

// MinHash's estimate of the Jaccard similarity of two documents' shingle sets (tests, docs).
double estimated_similarity(std::string_view a, std::string_view b, const DedupOptions& options = {});
// The exact Jaccard similarity of the word-shingle sets, for checking the estimate.
double shingle_jaccard(std::string_view a, std::string_view b, int shingle_words = 5);

}  // namespace structlm::data
