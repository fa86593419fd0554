// Exact and near-duplicate detection on planted duplicates, against the exact Jaccard similarity.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"
#include "dedup_docs.h"
#include "data/dedup.h"

using namespace structlm;
using namespace structlm::data;
using structlm::test_util::edited;
using structlm::test_util::random_doc;

namespace {

}  // namespace

TEST(Dedup, NormalisationIgnoresCaseAndWhitespaceOnly) {
  EXPECT_EQ(normalize_for_dedup("  The  Cat\n\tsat.\r\n"), "the cat sat.");
  EXPECT_EQ(normalize_for_dedup("Caf\xc3\x89"), "caf\xc3\x89");  // non-ASCII bytes unchanged
  EXPECT_NE(normalize_for_dedup("the cat sat."), normalize_for_dedup("the cat sat"));
}

TEST(Dedup, ExactDuplicatesAfterNormalisationAreRemovedTheFirstKept) {
  Deduplicator d;
  const std::string a = random_doc(1);
  EXPECT_EQ(d.add(a), Deduplicator::Verdict::keep);
  std::string shouted = a;
  for (auto& c : shouted) c = char(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(d.add("\n" + shouted + "  \n"), Deduplicator::Verdict::exact_duplicate);
  EXPECT_EQ(d.add(random_doc(2)), Deduplicator::Verdict::keep);
  EXPECT_EQ(d.add(a), Deduplicator::Verdict::exact_duplicate);
  // Short texts (fewer words than a shingle) are compared exactly too.
  EXPECT_EQ(d.add("Amen."), Deduplicator::Verdict::keep);
  EXPECT_EQ(d.add("amen."), Deduplicator::Verdict::exact_duplicate);
  EXPECT_EQ(d.add("Selah."), Deduplicator::Verdict::keep);
  EXPECT_EQ(d.counts().kept, 4u);
  EXPECT_EQ(d.counts().exact, 3u);
  EXPECT_EQ(d.counts().near, 0u);
}

TEST(Dedup, TheMinHashEstimateTracksTheExactJaccardSimilarity) {
  const std::string a = random_doc(3);
  for (int every : {50, 20, 10, 5, 3}) {
    const std::string b = edited(a, every);
    const double exact = shingle_jaccard(a, b), estimate = estimated_similarity(a, b);
    // 128 hashes: the estimate's standard error is at most sqrt(0.25 / 128) = 0.044.
    EXPECT_NEAR(estimate, exact, 0.15) << "every " << every << "th word edited";
  }
  EXPECT_DOUBLE_EQ(estimated_similarity(a, a), 1.0);
  EXPECT_LT(estimated_similarity(a, random_doc(4)), 0.05);
}

TEST(Dedup, PlantedNearDuplicatesAreFoundAndDistantOnesKept) {
  // 300 unrelated documents, then near copies (one word in 50 edited: Jaccard about 0.82-0.9)
  // of the first 100 and distant edits (one word in 4: Jaccard about 0.1) of the next 100.
  Deduplicator d;
  for (int i = 0; i < 300; ++i) ASSERT_EQ(d.add(random_doc(100 + std::uint64_t(i))), Deduplicator::Verdict::keep) << i;
  int near_found = 0, distant_kept = 0;
  for (int i = 0; i < 100; ++i) {
    const std::string copy = edited(random_doc(100 + std::uint64_t(i)), 50);
    ASSERT_GE(shingle_jaccard(copy, random_doc(100 + std::uint64_t(i))), 0.8);
    near_found += d.add(copy) == Deduplicator::Verdict::near_duplicate;
  }
  for (int i = 100; i < 200; ++i) distant_kept += d.add(edited(random_doc(100 + std::uint64_t(i)), 4)) == Deduplicator::Verdict::keep;
  // At similarity >= 0.82 a pair becomes a candidate with probability >= 0.97 and then passes
  // the 0.8 estimate most of the time; at 0.1 it is essentially never a candidate.
  EXPECT_GE(near_found, 85);
  EXPECT_EQ(distant_kept, 100);
  EXPECT_EQ(d.counts().near, std::size_t(near_found));
  EXPECT_EQ(d.counts().kept, 300u + 100u + std::size_t(100 - near_found));
}

TEST(Dedup, TheVerdictsDependOnTheInputOnly) {
  std::vector<std::string> docs;
  for (int i = 0; i < 50; ++i) docs.push_back(random_doc(std::uint64_t(i % 20)));  // 30 exact repeats
  // Near copies of the first 20 (one word in 100 edited: Jaccard about 0.95, a candidate with
  // probability 1 - (1 - 0.95^8)^16, above 1 - 1e-9).
  for (int i = 0; i < 20; ++i) docs.push_back(edited(random_doc(std::uint64_t(i)), 100));
  auto run = [&] {
    Deduplicator d;
    std::vector<Deduplicator::Verdict> v;
    for (const auto& t : docs) v.push_back(d.add(t));
    return v;
  };
  const auto verdicts = run();
  for (int i = 0; i < 70; ++i) {
    const auto expected = i < 20 ? Deduplicator::Verdict::keep
                          : i < 50 ? Deduplicator::Verdict::exact_duplicate
                                   : Deduplicator::Verdict::near_duplicate;
    EXPECT_EQ(verdicts[std::size_t(i)], expected) << "document " << i;
  }
  EXPECT_EQ(run(), verdicts);  // and again, the same
}

// Two sources with planted copies: within each, and of the first source in the second.
TEST(Dedup, TheCensusCountsWithinEachSourceAndAgainstEarlierOnes) {
  std::vector<std::string> a, b;
  for (int i = 0; i < 50; ++i) a.push_back(random_doc(100 + i));
  a.push_back("  " + a[3] + " ");        // an exact copy within a (whitespace differs)
  a.push_back(edited(a[7], 50));          // a near copy within a
  for (int i = 0; i < 40; ++i) b.push_back(random_doc(900 + i));
  b.push_back(a[10]);                     // exact copies of a's documents in b
  b.push_back(a[11]);
  b.push_back(edited(a[12], 50));         // a near copy of one of a's
  b.push_back(b[0]);                      // and an exact copy within b
  DuplicateCensus census;
  const auto ra = census.add_source("a", a);
  EXPECT_EQ(ra.documents, 52u);
  EXPECT_EQ(ra.exact, 1u);
  EXPECT_EQ(ra.near, 1u);
  EXPECT_EQ(ra.earlier, 0u);
  const auto rb = census.add_source("b", b);
  EXPECT_EQ(rb.documents, 44u);
  EXPECT_EQ(rb.exact, 1u);    // b[0]'s copy: b alone knows nothing of a
  EXPECT_EQ(rb.near, 0u);
  EXPECT_EQ(rb.earlier, 3u);  // a[10], a[11] and the edit of a[12]
  EXPECT_EQ(census.rows().size(), 2u);
  EXPECT_EQ(census.rows()[1].name, "b");
}
