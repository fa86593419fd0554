// Assigning documents to splits. Each document draws u in [0, 1) from a hash of (seed, id):
// u < val goes to val, u < val + test to test, the rest to train. Adding, removing or reordering
// other documents never moves a document, which keeps evaluation sets stable as a corpus grows.

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

SplitAssigner::SplitAssigner(const SplitFractions& f, unsigned long long seed) : f_(f), seed_(seed) {
  if (!(f.val >= 0 && f.test >= 0 && f.val + f.test < 1))
    fail("split fractions", "val and test must be >= 0 and sum to less than 1");
}

// How far u lies from split `target`'s interval on the u line (train [val + test, 1), val
// [0, val), test [val, val + test)).
double SplitAssigner::distance(double u, int target) const {
  const double lo = target == 0 ? f_.val + f_.test : target == 1 ? 0.0 : f_.val;
  const double hi = target == 0 ? 1.0 : target == 1 ? f_.val : f_.val + f_.test;
  return u < lo ? lo - u : u - hi;
}

bool SplitAssigner::nearer(const Candidate& a, const Candidate& b, int target) const {
  const double da = distance(a.u, target), db = distance(b.u, target);
  return da < db || (da == db && a.id < b.id);
}

int SplitAssigner::place(const std::string& id) {
  const double u = document_draw(seed_, id);
  const int where = u < f_.val ? 1 : u < f_.val + f_.test ? 2 : 0;
  for (int target = 0; target < 3; ++target) {
    if (target == where) continue;
    auto& best = nearest_[target][where];
    // At most 2 moves happen before the last empty split is filled, so the 3 nearest suffice.
    if (best.size() == 3 && !nearer({u, id, n_}, best.back(), target)) continue;
    Candidate c{u, id, n_};
    auto at = best.begin();
    while (at != best.end() && nearer(*at, c, target)) ++at;
    best.insert(at, std::move(c));
    if (best.size() > 3) best.pop_back();
  }
  ++count_[where];
  ++n_;
  return where;
}

std::vector<std::pair<std::size_t, int>> SplitAssigner::moves() const {
  // A small corpus can leave val or test empty by chance, which makes evaluation impossible.
  // With >= 3 documents, fill each empty split wanted (fraction > 0; train always) with the document
  // of a larger split whose u lies nearest its interval: still deterministic, and only corpora this
  // small ever see it.
  std::vector<std::pair<std::size_t, int>> moved;
  if (n_ < 3) return moved;
  std::size_t count[3] = {count_[0], count_[1], count_[2]};
  auto was_moved = [&](std::size_t index) {
    for (const auto& m : moved)
      if (m.first == index) return true;
    return false;
  };
  for (int s : {1, 2, 0}) {
    if (count[s] > 0 || (s == 1 && f_.val <= 0) || (s == 2 && f_.test <= 0)) continue;
    const Candidate* best = nullptr;
    int from = -1;
    for (int d = 0; d < 3; ++d) {
      if (d == s || count[d] < 2) continue;  // never empty the donor
      for (const auto& c : nearest_[s][d]) {
        if (was_moved(c.index)) continue;  // it sits in a split of one now
        if (!best || nearer(c, *best, s)) {
          best = &c;
          from = d;
        }
        break;
      }
    }
    if (!best) continue;
    --count[from];
    ++count[s];
    moved.emplace_back(best->index, s);
  }
  return moved;
}

SplitCorpus split_corpus(const Corpus& corpus, const SplitFractions& f, unsigned long long seed) {
  SplitAssigner assign(f, seed);
  std::vector<int> where;
  where.reserve(corpus.docs.size());
  for (const auto& d : corpus.docs) where.push_back(assign.place(d.id));
  for (const auto& [index, s] : assign.moves()) where[index] = s;
  SplitCorpus out;
  out.name = corpus.name;
  for (std::size_t i = 0; i < corpus.docs.size(); ++i) {
    auto& dst = where[i] == 0 ? out.train : where[i] == 1 ? out.val : out.test;
    dst.push_back(corpus.docs[i]);
  }
  return out;
}

}  // namespace structlm::data
