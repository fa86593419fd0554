// Held-out perplexity paired over seeds and over documents (experiment/cstde_documents.h), and the
// per-document scores' trip through result.json (CorpusScore): hand-made results, numbers worked
// by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "experiment/corpus_eval.h"
#include "experiment/cstde_documents.h"

using namespace structlm;
using namespace structlm::experiment;

namespace {

// A corpus score of documents with these summed losses and token counts.
CorpusScore score(const std::string& corpus, const std::vector<double>& nats, const std::vector<std::size_t>& tokens) {
  CorpusScore s;
  s.corpus = corpus;
  s.split = "test";
  double total = 0;
  for (std::size_t d = 0; d < nats.size(); ++d) {
    s.documents.push_back({nats[d], tokens[d]});
    total += nats[d];
    s.tokens += tokens[d];
  }
  s.loss = total / double(s.tokens);
  s.perplexity = std::exp(s.loss);
  return s;
}

CstdeRunResult run(const std::string& variant, std::int64_t seed, const std::vector<double>& nats) {
  CstdeRunResult r;
  r.variant = variant;
  r.seed = seed;
  r.eval.push_back(score("brown", nats, {10, 30}));
  return r;
}

}  // namespace

TEST(CstdeDocuments, RowsPairOverSeedsAndDocuments) {
  CstdeResults results;
  // Baseline 1 nat/token everywhere; the variant gains 0.5 nats/token on document 0 and 0.1 on
  // document 1 at both seeds: every resample is a gain, and so is every seed.
  for (std::int64_t seed : {1, 2}) {
    results[{"baseline", seed}] = run("baseline", seed, {10, 30});
    results[{"attention", seed}] = run("attention", seed, {5, 27 + 0.3 * double(seed - 1)});
  }
  const auto rows = document_paired_rows(results, {"baseline", "attention"}, {1, 2});
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r.corpus, "brown");
  EXPECT_EQ(r.variant, "attention");
  EXPECT_EQ(r.documents.documents, 2u);
  EXPECT_EQ(r.documents.seeds, 2);
  // Seed 1: (32 - 40) / 40 = -0.2; seed 2: (32.3 - 40) / 40 = -0.1925.
  EXPECT_NEAR(r.documents.mean, (-0.2 - 0.1925) / 2, 1e-12);
  EXPECT_EQ(r.seeds.n, 2);
  EXPECT_NEAR(r.seeds.mean, r.documents.mean, 1e-12);  // the log perplexity ratio is the loss difference
  // Document 0 alone: -0.5 both seeds; document 1 alone: seeds -0.1, -0.09.
  EXPECT_NEAR(r.documents.interval.lo, -0.5, 1e-12);
  EXPECT_NEAR(r.documents.interval.hi, -0.095, 1e-12);
  const std::string md = document_paired_markdown(rows);
  EXPECT_NE(md.find("| brown | attention | 0.8218 |"), std::string::npos) << md;  // exp(-0.19625)
  // Over seeds: -0.19625 +- t(0.975, 1) 0.0053 / sqrt(2) = 12.706 x 0.00375.
  EXPECT_NE(md.find("[0.7836, 0.8619]"), std::string::npos) << md;
  EXPECT_NE(md.find("[0.6065, 0.9094]"), std::string::npos) << md;              // exp(-0.5), exp(-0.095)
  EXPECT_NE(md.find("| 2 | yes |"), std::string::npos) << md;
}

TEST(CstdeDocuments, OneSeedOrResultsWithoutDocumentsTellNothingMore) {
  CstdeResults results;
  results[{"baseline", 1}] = run("baseline", 1, {10, 30});
  results[{"init", 1}] = run("init", 1, {9, 31});
  auto rows = document_paired_rows(results, {"baseline", "init"}, {1});
  ASSERT_EQ(rows.size(), 1u);
  const std::string md = document_paired_markdown(rows);
  EXPECT_NE(md.find("n/a (1 seed)"), std::string::npos) << md;
  EXPECT_NE(md.find("| no |"), std::string::npos) << md;  // one seed cannot exclude 1

  results[{"init", 1}].eval[0].documents.clear();  // written before documents were kept
  EXPECT_TRUE(document_paired_rows(results, {"baseline", "init"}, {1}).empty());
  EXPECT_EQ(document_paired_markdown({}), "");

  results[{"init", 1}] = run("init", 1, {9, 31});
  results[{"init", 1}].eval[0].documents[1].tokens = 29;  // other text
  try {
    document_paired_rows(results, {"baseline", "init"}, {1});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("init seed 1"), std::string::npos) << what;
    EXPECT_NE(what.find("document 1 has 29 tokens, the baseline's 30"), std::string::npos) << what;
  }
}

TEST(CorpusScoreJson, DocumentsRoundTripAndDamageIsNamed) {
  const CorpusScore s = score("kjv", {1.5, 2.25, 3}, {1, 2, 3});
  const json j = s.to_json();
  const CorpusScore back = CorpusScore::from_json(j, "result.json");
  ASSERT_EQ(back.documents.size(), 3u);
  EXPECT_EQ(back.documents[1].nats, 2.25);
  EXPECT_EQ(back.documents[2].tokens, 3u);
  CorpusScore plain = s;
  plain.documents.clear();
  EXPECT_FALSE(plain.to_json().contains("documents"));  // `eval --json` output is unchanged
  EXPECT_TRUE(CorpusScore::from_json(plain.to_json(), "r.json").documents.empty());

  auto error = [](json bad) {
    try {
      CorpusScore::from_json(bad, "result.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  json bad = j;
  bad["documents"]["tokens"] = {1, 2};
  EXPECT_NE(error(bad).find("holds 3 losses but 2 token counts"), std::string::npos) << error(bad);
  bad = j;
  bad["documents"]["tokens"] = {1, 2, 4};
  EXPECT_NE(error(bad).find("its documents hold 7 tokens, its field 'tokens' 6"), std::string::npos) << error(bad);
  bad = j;
  bad["documents"]["nats"][0] = -1;
  EXPECT_NE(error(bad).find("document 0"), std::string::npos) << error(bad);
  bad = j;
  bad["documents"] = 3;
  EXPECT_NE(error(bad).find("result.json"), std::string::npos) << error(bad);
}
