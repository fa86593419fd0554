// The paired bootstrap over evaluation documents (report/document_bootstrap.h), on cases worked
// by hand: with two documents a resample holds one of them twice (probability 1/4 each) or both,
// so the 2.5th and 97.5th percentiles are the two single-document differences.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "report/document_bootstrap.h"

using namespace structlm;
using namespace structlm::report;

TEST(DocumentBootstrap, TwoDocumentsGiveTheSingleDocumentDifferencesAsTheInterval) {
  // Document 0: 10 tokens, candidate 1 nat/token better; document 1: 30 tokens, 0.2 worse.
  DocumentPair p{{20, 36}, {30, 30}, {10, 30}};
  const DocumentBootstrap b = paired_document_bootstrap({p}, 4000, 7);
  EXPECT_EQ(b.documents, 2u);
  EXPECT_EQ(b.seeds, 1);
  EXPECT_NEAR(b.mean, (56.0 - 60.0) / 40.0, 1e-12);  // token-weighted: -0.1
  EXPECT_NEAR(b.interval.lo, -1.0, 1e-12);
  EXPECT_NEAR(b.interval.hi, 0.2, 1e-12);
}

TEST(DocumentBootstrap, EverySeedSharesOneDrawOfTheDocuments) {
  // Equal tokens; per-token differences: seed 1 (-1, +1), seed 2 (-3, +1). One draw for both
  // seeds: document 0 twice gives (-1 - 3) / 2 = -2, document 1 twice +1, one of each -0.5, with
  // probabilities 1/4, 1/2, 1/4, so even the 80 % interval's ends (10th and 90th percentiles)
  // are -2 and +1. Independent draws per seed would make -2 only 1/16 likely and put the 10th
  // percentile near -1.5.
  DocumentPair s1{{4, 6}, {5, 5}, {1, 1}}, s2{{2, 6}, {5, 5}, {1, 1}};
  const DocumentBootstrap b = paired_document_bootstrap({s1, s2}, 4000, 3, 0.8);
  EXPECT_NEAR(b.mean, ((-1 + 1) / 2.0 + (-3 + 1) / 2.0) / 2, 1e-12);  // -0.5
  EXPECT_NEAR(b.interval.lo, -2.0, 1e-12);
  EXPECT_NEAR(b.interval.hi, 1.0, 1e-12);
  // The same call twice: the same interval (a fixed generator seed).
  const DocumentBootstrap again = paired_document_bootstrap({s1, s2}, 4000, 3, 0.8);
  EXPECT_EQ(again.interval.lo, b.interval.lo);
  EXPECT_EQ(again.interval.hi, b.interval.hi);
}

TEST(DocumentBootstrap, AConstantDifferenceHasAPointIntervalAndManyDocumentsNarrowIt) {
  // Every document 0.25 nats/token worse, whatever its length: every resample says 0.25.
  DocumentPair p{{3.25, 10.5, 1.25}, {3, 10, 1}, {1, 2, 1}};
  const DocumentBootstrap b = paired_document_bootstrap({p}, 500, 1);
  EXPECT_NEAR(b.mean, 0.25, 1e-12);
  EXPECT_NEAR(b.interval.lo, 0.25, 1e-12);
  EXPECT_NEAR(b.interval.hi, 0.25, 1e-12);
  // Differences +-1 per token alternating, equal lengths: the interval holds 0 and shrinks
  // about as 1/sqrt(n) (the half-width of a mean of n +-1 values: 1.96 / sqrt(n)).
  for (std::size_t n : {16u, 256u}) {
    DocumentPair q;
    for (std::size_t d = 0; d < n; ++d) {
      q.candidate.push_back(d % 2 ? 2.0 : 0.0);
      q.baseline.push_back(1.0);
      q.tokens.push_back(1);
    }
    const DocumentBootstrap r = paired_document_bootstrap({q}, 4000, 2);
    EXPECT_LT(r.interval.lo, 0.0);
    EXPECT_GT(r.interval.hi, 0.0);
    EXPECT_NEAR((r.interval.hi - r.interval.lo) / 2, 1.96 / std::sqrt(double(n)), 0.25 / std::sqrt(double(n))) << n;
  }
}

TEST(DocumentBootstrap, DifferentDocumentsAreRefused) {
  DocumentPair a{{1, 2}, {1, 2}, {1, 1}}, fewer{{1}, {1}, {1}}, other_lengths{{1, 2}, {1, 2}, {1, 2}};
  EXPECT_THROW(paired_document_bootstrap({a, fewer}), Error);
  EXPECT_THROW(paired_document_bootstrap({a, other_lengths}), Error);
  DocumentPair ragged{{1, 2}, {1}, {1, 1}};
  EXPECT_THROW(paired_document_bootstrap({ragged}), Error);
  // One document: a mean, but no interval (nothing to resample).
  const DocumentBootstrap one = paired_document_bootstrap({DocumentPair{{2}, {1}, {4}}});
  EXPECT_NEAR(one.mean, 0.25, 1e-12);
  EXPECT_TRUE(std::isnan(one.interval.lo) && std::isnan(one.interval.hi));
  const DocumentBootstrap none = paired_document_bootstrap({});
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.interval.lo));
}
