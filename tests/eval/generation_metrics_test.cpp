// Generation metrics (eval/generation_metrics.h) against values worked out by hand (in the
// comments) and, for MTLD, against an independent Python implementation (mtld_reference.py,
// stdlib only, exact fractions) on longer texts.
#include <gtest/gtest.h>

#include <cmath>

#include "core/json.h"
#include "core/rng.h"
#include "core/subprocess.h"
#include "eval/generation_metrics.h"
#include "text/sentences.h"

namespace structlm::eval {
namespace {

using Words = std::vector<std::string>;

Words split(const std::string& s) { return text::words(s); }

TEST(GenerationMetrics, DistinctNPoolsTheContinuations) {
  // "the cat sat" + "the cat ran": unigrams 6, unique {the, cat, sat, ran} 4 -> 4/6;
  // bigrams {the cat, cat sat} + {the cat, cat ran}: 4, unique 3 -> 3/4; trigrams 2, unique 2 -> 1.
  std::vector<Words> w = {split("the cat sat"), split("The cat, ran.")};
  EXPECT_DOUBLE_EQ(distinct_n(w, 1), 4.0 / 6);
  EXPECT_DOUBLE_EQ(distinct_n(w, 2), 3.0 / 4);
  EXPECT_DOUBLE_EQ(distinct_n(w, 3), 1.0);
  // No 4-gram spans the two continuations: there are none at all.
  EXPECT_TRUE(std::isnan(distinct_n(w, 4)));
}

TEST(GenerationMetrics, SeqRep4) {
  // a b c d a b c d a: 4-grams abcd bcda cdab dabc abcd bcda: 6, unique 4 -> 1 - 4/6 = 1/3.
  EXPECT_DOUBLE_EQ(seq_rep_n(split("a b c d a b c d a"), 4), 1.0 / 3);
  EXPECT_DOUBLE_EQ(seq_rep_n(split("a b c d e"), 4), 0.0);
  EXPECT_TRUE(std::isnan(seq_rep_n(split("a b c"), 4)));
  // Repeating one word: 4-grams "x x x x" six times, one unique -> 5/6.
  EXPECT_DOUBLE_EQ(seq_rep_n(split("x x x x x x x x x"), 4), 5.0 / 6);
}

TEST(GenerationMetrics, MtldByHand) {
  // Forward "a b a b a b c d e f": a b a -> TTR 2/3 <= 0.72, factor 1; b a b -> 2/3, factor 2;
  // c d e f ends with TTR 1: partial (1 - 1)/0.28 = 0. 10 words / 2 factors = 5.
  // Backward "f e d c b a b a b a": TTR 1 for 6 words, then 6/7, 6/8 = 0.75, 6/9 = 0.667: factor 1
  // after 9 words; "a" left with TTR 1 adds 0. 10 / 1 = 10. MTLD = (5 + 10) / 2 = 7.5.
  Words w = split("a b a b a b c d e f");
  EXPECT_DOUBLE_EQ(mtld_forward(w), 5.0);
  EXPECT_DOUBLE_EQ(mtld(w), 7.5);
  // "x y z x": TTR 3/4 = 0.75 never reaches 0.72; partial factor (1 - 0.75)/(1 - 0.72) = 0.25/0.28,
  // both ways: MTLD = 4 / (0.25/0.28) = 4.48.
  EXPECT_NEAR(mtld(split("x y z x")), 4.48, 1e-12);
  // TTR exactly 0.72 (18 types in 25 words) ends a factor: 25 words, 1 factor, nothing left.
  Words exact;
  for (int i = 0; i < 18; ++i) exact.push_back("w" + std::to_string(i));
  for (int i = 0; i < 7; ++i) exact.push_back("w0");
  EXPECT_DOUBLE_EQ(mtld_forward(exact), 25.0);
  // No word repeats: no factor, MTLD is unbounded.
  EXPECT_TRUE(std::isnan(mtld(split("one two three"))));
  EXPECT_TRUE(std::isnan(mtld({})));
}

TEST(GenerationMetrics, SentenceLengthsInWords) {
  // "The cat sat." 3; "It ran away -- fast!" 4 ("--" is no word); "Mr. Smith said so." 4 (one sentence).
  EXPECT_EQ(sentence_lengths("The cat sat. It ran away -- fast! Mr. Smith said so."), (std::vector<int>{3, 4, 4}));
  EXPECT_EQ(sentence_lengths("no terminator at all\n\n-- \n\nSecond paragraph."), (std::vector<int>{4, 2}));
  EXPECT_TRUE(sentence_lengths("").empty());
}

TEST(GenerationMetrics, MeasureGenerationsByHand) {
  // Text 1 words: the cat sat the cat ran (6); text 2: a b c d a b c d a (9). 15 words.
  // distinct-1: {the cat sat ran a b c d} 8 / 15.
  // distinct-2: text 1 the-cat cat-sat sat-the the-cat cat-ran (5, 4 unique), text 2 ab bc cd da ab
  //   bc cd da (8, 4 unique): 8 / 13. distinct-3: 4 (4 unique) + 7 (abc bcd cda dab: 4 unique): 8 / 11.
  // seq-rep-4: text 1 three distinct 4-grams -> 0; text 2 -> 1/3 (SeqRep4); mean 1/6.
  // MTLD: text 1 forward the cat sat the cat -> 3/5 = 0.6, factor; "ran" adds 0: 6. Backward
  //   ran cat the sat cat the -> 4/6, factor: 6. Text 2 forward a b c d a b -> 4/6, factor; c d a adds 0:
  //   9; backward a d c b a d -> 4/6: 9. Mean of 6 and 9: 7.5.
  // Sentences: "The cat sat." 3, "The cat ran." 3; text 2 has no terminator: one sentence of 9.
  auto m = measure_generations({"The cat sat. The cat ran.", "a b c d a b c d a"});
  EXPECT_EQ(m.texts, 2u);
  EXPECT_EQ(m.words, 15u);
  EXPECT_DOUBLE_EQ(m.distinct1, 8.0 / 15);
  EXPECT_DOUBLE_EQ(m.distinct2, 8.0 / 13);
  EXPECT_DOUBLE_EQ(m.distinct3, 8.0 / 11);
  EXPECT_DOUBLE_EQ(m.seq_rep4, 1.0 / 6);
  EXPECT_EQ(m.seq_rep4_texts, 2u);
  EXPECT_DOUBLE_EQ(m.mtld, 7.5);
  EXPECT_EQ(m.mtld_texts, 2u);
  EXPECT_EQ(m.sentence_lengths, (std::vector<int>{3, 3, 9}));
  // Undefined values are left out of the means, not counted as zeros.
  auto short_one = measure_generations({"The cat sat. The cat ran.", "Hi there."});
  EXPECT_DOUBLE_EQ(short_one.mtld, 6.0);
  EXPECT_EQ(short_one.mtld_texts, 1u);
  EXPECT_DOUBLE_EQ(short_one.seq_rep4, 0.0);
  EXPECT_EQ(short_one.seq_rep4_texts, 1u);
}

// Text drawn from a skewed vocabulary, so that MTLD has many factors and partial ones.
std::string random_text(std::uint64_t seed, int n_words) {
  static const char* const kVocab[] = {"the", "of", "and", "a", "to", "in", "is", "was", "he", "for", "it",
                                       "with", "as", "his", "on", "be", "at", "by", "I", "this", "had",
                                       "not", "are", "but", "from", "or", "have", "an", "they", "which"};
  SplitMix64 rng(seed);
  std::string out;
  for (int i = 0; i < n_words; ++i) {
    double u = rng.uniform();
    std::size_t k = std::size_t(30 * u * u * u);  // small indices far more often
    out += kVocab[k];
    out += (i % 11 == 10) ? ". " : " ";
  }
  return out;
}

TEST(GenerationMetrics, MtldMatchesAnIndependentPythonImplementation) {
  if (!program_available("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
  const std::vector<std::string> texts = {
      "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
      "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
      "it was the season of Darkness, it was the spring of hope, it was the winter of despair.",
      "The jury said it did find that the court \"has been ineffective\" -- and the jury's report, "
      "which was filed Friday, said the court's \u201cwork\u201d was done... (Really?) THE END!",
      random_text(1, 1500),
      random_text(2, 97),
      "every word here is different",
      "",
  };
  json request = {{"threshold", 0.72}, {"texts", texts}};
  std::string script = std::string(STRUCTLM_SOURCE_DIR) + "/tests/eval/mtld_reference.py";
  ProcessResult r = run_process({"/usr/bin/python3", script}, request.dump());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json expected = json::parse(r.out);
  ASSERT_EQ(expected.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double got = mtld(text::words(texts[i]));
    if (expected[i].is_null()) {
      EXPECT_TRUE(std::isnan(got)) << "text " << i << ": " << got;
    } else {
      EXPECT_NEAR(got, expected[i].get<double>(), 1e-9 * expected[i].get<double>()) << "text " << i;
    }
  }
  // The texts above are not degenerate: the long ones do have several factors.
  EXPECT_GT(expected[0].get<double>(), 0);
  EXPECT_LT(mtld(text::words(texts[2])), 100.0);
}

}  // namespace
}  // namespace structlm::eval
