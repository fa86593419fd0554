// Assigning documents to splits. Each document draws u in [0, 1) from a hash of (seed, id):
// u < val goes to val, u < val + test to test, the rest to train. Adding, removing or reordering
// other documents never moves a document, which keeps evaluation sets stable as a corpus grows.
#include <algorithm>
#include <array>

#include "core/error.h"
#include "core/rng.h"
#include "data/split.h"

namespace structlm::data {
namespace {

// FNV-1a: a fixed, platform-independent hash of the id bytes (std::hash is neither).
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

double document_draw(unsigned long long seed, const std::string& id) {
  return (mix_seed(seed, fnv1a(id)) >> 11) * 0x1.0p-53;
}

SplitCorpus split_corpus(const Corpus& corpus, const SplitFractions& f, unsigned long long seed) {
  if (!(f.val >= 0 && f.test >= 0 && f.val + f.test < 1))
    fail("split fractions", "val and test must be >= 0 and sum to less than 1");
  const std::size_t n = corpus.docs.size();
  // 0 train, 1 val, 2 test; bucket intervals on the u line.
  const std::array<std::pair<double, double>, 3> range = {{{f.val + f.test, 1.0}, {0.0, f.val}, {f.val, f.val + f.test}}};
  std::vector<double> u(n);
  std::vector<int> where(n);
  std::array<std::size_t, 3> count{};
  for (std::size_t i = 0; i < n; ++i) {
    u[i] = document_draw(seed, corpus.docs[i].id);
    where[i] = u[i] < f.val ? 1 : u[i] < f.val + f.test ? 2 : 0;
    ++count[where[i]];
  }
  // A small corpus can leave val or test empty by chance, which makes evaluation impossible.
  // With >= 3 documents, fill each empty split wanted (fraction > 0; train always) with the document
  // of a larger split whose u lies nearest its interval: still deterministic, and only corpora this
  // small ever see it.
  if (n >= 3) {
    for (int s : {1, 2, 0}) {
      if (count[s] > 0 || (s == 1 && f.val <= 0) || (s == 2 && f.test <= 0)) continue;
      std::size_t best = n;
      double best_dist = 2;
      for (std::size_t i = 0; i < n; ++i) {
        if (count[where[i]] < 2) continue;  // never empty the donor
        double d = u[i] < range[s].first ? range[s].first - u[i] : u[i] - range[s].second;
        if (d < best_dist || (d == best_dist && corpus.docs[i].id < corpus.docs[best].id)) {
          best = i;
          best_dist = d;
        }
      }
      if (best == n) continue;
      --count[where[best]];
      where[best] = s;
      ++count[s];
    }
  }
  SplitCorpus out;
  out.name = corpus.name;
  for (std::size_t i = 0; i < n; ++i) {
    auto& dst = where[i] == 0 ? out.train : where[i] == 1 ? out.val : out.test;
    dst.push_back(corpus.docs[i]);
  }
  return out;
}

}  // namespace structlm::data
