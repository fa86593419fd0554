// What the experiment tables mean, tested directly: the CSTDE distance buckets, pooled losses,
// step times and table row; the HCMA summary (rare/frequent pools, attacks, agreement, late loss);
// the suite's option parser and the experiment config loader. Each against hand-computed values.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/io.h"
#include "experiment/cstde_experiment.h"
#include "experiment/cstde_metrics.h"
#include "experiment/cstde_result.h"
#include "experiment/hcma_metrics.h"
#include "experiment/hcma_paired.h"
#include "experiment/hcma_suite.h"
#include "report/experiment_logs.h"  // wasserstein1
#include "support/temp_dir.h"

using namespace structlm;
using namespace structlm::experiment;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

TEST(CstdeMetrics, DistanceBucketsStartAtTheirFirstDistance) {
  const std::vector<std::pair<int, int>> cases = {{1, 1}, {4, 4}, {5, 5}, {6, 5}, {8, 7}, {12, 9}, {13, 13},
                                                  {20, 17}, {24, 17}, {32, 25}, {33, 33}, {500, 33}};
  for (auto [k, start] : cases) EXPECT_EQ(distance_bucket_start(k), start) << "distance " << k;
}

TEST(CstdeMetrics, LossOverPoolsBucketsByTheirTokens) {
  const std::vector<DistanceBucket> b = {{1, 2.0, 30}, {4, 4.0, 10}, {9, 6.0, 5}, {33, 8.0, 15}};
  EXPECT_DOUBLE_EQ(loss_over(b, 1, 4), (2.0 * 30 + 4.0 * 10) / 40);
  EXPECT_DOUBLE_EQ(loss_over(b, 9, 1 << 30), (6.0 * 5 + 8.0 * 15) / 20);
  EXPECT_TRUE(std::isnan(loss_over(b, 5, 8)));
}

TEST(CstdeMetrics, StepTimeIsTheMedianThroughputWithoutTheFirstLine) {
  TempDir t;
  // 1000 tokens per step; throughputs 10 (start-up, dropped), 100, 200, 400 -> median 200 -> 5 ms.
  write_file_atomic(t / "metrics.jsonl",
                    "{\"step\": 1, \"tokens_per_s\": 10}\n{\"step\": 2, \"val_loss\": 3}\n"
                    "{\"step\": 3, \"tokens_per_s\": 400}\n{\"step\": 4, \"tokens_per_s\": 100}\n\n"
                    "{\"step\": 5, \"tokens_per_s\": 200}\n");
  EXPECT_DOUBLE_EQ(median_step_ms(t / "metrics.jsonl", 1000), 1000.0 * 1000 / 200);
  write_file_atomic(t / "empty.jsonl", "{\"step\": 1}\n");
  EXPECT_NE(error_of([&] { median_step_ms(t / "empty.jsonl", 1); }).find("no tokens_per_s lines"), std::string::npos);
  // The log's schema (report/metrics_log.h): a line without a step, or with a misspelt field, is refused.
  write_file_atomic(t / "bad.jsonl", "{\"tokens_per_s\": 10}\n");
  EXPECT_NE(error_of([&] { median_step_ms(t / "bad.jsonl", 1); }).find("bad.jsonl:1: field 'step'"), std::string::npos);
  write_file_atomic(t / "typo.jsonl", "{\"step\": 1, \"tokens_per_sec\": 10}\n");
  EXPECT_NE(error_of([&] { median_step_ms(t / "typo.jsonl", 1); }).find("tokens_per_sec"), std::string::npos);
}

json cstde_result_json(double step_ms, double rss, std::int64_t params, double ppl, std::vector<int> lengths) {
  return {{"step_ms", step_ms},
          {"peak_rss_mib", rss},
          {"params", params},
          {"eval", json::array({{{"corpus", "brown"}, {"perplexity", ppl}, {"bits_per_byte", 1.5}}})},
          {"uas_dependency", nullptr},
          {"prior_weight", nullptr},
          {"carry_gate", nullptr},
          {"uas_attention", 0.25},
          {"uas_adjacent", 0.5},
          {"uas_random", 0.125},
          {"loss_by_distance", json::array({{{"distance", 1}, {"loss", 2.0}, {"tokens", 6}, {"uas_attention", 0.5},
                                             {"uas_adjacent", 1.0}, {"uas_random", 0.25}, {"uas_dependency", nullptr}},
                                            {{"distance", 2}, {"loss", 3.0}, {"tokens", 4}, {"uas_attention", 0.25},
                                             {"uas_adjacent", 0.0}, {"uas_random", 0.1}, {"uas_dependency", nullptr}},
                                            {{"distance", 5}, {"loss", 3.5}, {"tokens", 12}, {"uas_attention", 0.0},
                                             {"uas_adjacent", 0.0}, {"uas_random", 0.05}, {"uas_dependency", nullptr}}})},
          {"generation",
           {{"distinct1", 0.5}, {"distinct2", 0.6}, {"distinct3", 0.7}, {"mtld", 12.0}, {"seq_rep4", 0.0},
            {"sentence_lengths", lengths}}}};
}

CstdeRunResult cstde_result(double step_ms, double rss, std::int64_t params, double ppl, std::vector<int> lengths) {
  return CstdeRunResult::from_json(cstde_result_json(step_ms, rss, params, ppl, std::move(lengths)), "fixture");
}

TEST(CstdeRunResult, JsonRoundTripsThroughTheTypedResult) {
  json j = cstde_result_json(10, 100, 1000, 50, {5, 10});
  j["variant"] = "both";
  j["seed"] = 2;
  j["train_wall_s"] = 3.5;
  j["sentences_probed"] = 7;
  j["tokens_with_partner"] = 40;
  j["generation"]["texts"] = 4;
  j["generation"]["samples"] = {"a", "b"};
  j["eval"][0]["split"] = "test";
  j["eval"][0]["tokens"] = 900;
  j["eval"][0]["bytes"] = 4000;
  j["eval"][0]["loss"] = 3.9;
  const auto r = CstdeRunResult::from_json(j, "r.json");
  EXPECT_FALSE(r.uas_dependency.has_value());
  EXPECT_FALSE(r.prior_weight.has_value());
  EXPECT_EQ(r.eval.front().corpus, "brown");
  EXPECT_FALSE(r.eval.front().xz_bits_per_byte.has_value());
  EXPECT_EQ(r.to_json(), j);
  // A CSTDE run's prior use round-trips too; a result written before it was measured reads as
  // not measured.
  j["prior_weight"] = 0.125;
  j["carry_gate"] = 0.5;
  const auto rc = CstdeRunResult::from_json(j, "r.json");
  EXPECT_DOUBLE_EQ(*rc.prior_weight, 0.125);
  EXPECT_DOUBLE_EQ(*rc.carry_gate, 0.5);
  EXPECT_EQ(rc.to_json(), j);
  json old = j;
  old.erase("prior_weight");
  old.erase("carry_gate");
  old.erase("uas_adjacent");
  for (auto& b : old["loss_by_distance"]) b.erase("uas_random");
  const auto ro = CstdeRunResult::from_json(old, "old.json");
  EXPECT_FALSE(ro.carry_gate.has_value());
  EXPECT_FALSE(ro.uas_adjacent.has_value());
  EXPECT_TRUE(std::isnan(ro.loss_by_distance[0].uas_random));
  json bad = j;
  bad["loss_by_distance"][0]["tokens"] = "four";
  EXPECT_NE(error_of([&] { CstdeRunResult::from_json(bad, "r.json"); }).find("r.json"), std::string::npos);
  // The validation curve (E1): absent before it was recorded, [tokens, loss] pairs when present.
  EXPECT_TRUE(r.curve.empty());
  j["curve"] = json::array({json::array({256, 6.5}), json::array({2560, 5.25})});
  const auto rv = CstdeRunResult::from_json(j, "r.json");
  ASSERT_EQ(rv.curve.size(), 2u);
  EXPECT_EQ(rv.curve[1].tokens, 2560);
  EXPECT_EQ(rv.curve[1].loss, 5.25);
  EXPECT_EQ(rv.to_json(), j);
  bad = j;
  bad["curve"][1] = json::array({2560});
  EXPECT_NE(error_of([&] { CstdeRunResult::from_json(bad, "r.json"); }).find("'curve'"), std::string::npos);
}

TEST(CstdeMetrics, TableRowHoldsRatiosToTheSameSeedsBaseline) {
  const auto base = cstde_result(10, 100, 1000, 50, {5, 10});
  const auto run = cstde_result(12, 110, 1010, 40, {6, 10});
  const std::vector<int> ref = {5, 10, 15};
  json v = cstde_table_values(run, base, ref);
  EXPECT_DOUBLE_EQ(v["brown_ppl"], 40);
  EXPECT_DOUBLE_EQ(v["brown_bpb"], 1.5);
  EXPECT_DOUBLE_EQ(v["step_time_rel"], 1.2);
  EXPECT_DOUBLE_EQ(v["rss_rel"], 1.1);
  EXPECT_DOUBLE_EQ(v["params_rel"], 1.01);
  EXPECT_DOUBLE_EQ(v["near_loss"], (2.0 * 6 + 3.0 * 4) / 10);
  EXPECT_TRUE(v["far_loss"].is_null());  // no partner at 9+: not measured, not NaN
  // UAS baselines, and the scores on partners 2+ away pooled by tokens (buckets 2 and 5).
  EXPECT_DOUBLE_EQ(v["uas_adjacent"], 0.5);
  EXPECT_DOUBLE_EQ(v["uas_random"], 0.125);
  EXPECT_DOUBLE_EQ(v["uas_attention_far"], (0.25 * 4 + 0.0 * 12) / 16);
  EXPECT_DOUBLE_EQ(v["uas_random_far"], (0.1 * 4 + 0.05 * 12) / 16);
  EXPECT_TRUE(v["uas_dependency_far"].is_null());  // no D
  EXPECT_TRUE(v["uas_dependency"].is_null());
  EXPECT_TRUE(v["prior_weight"].is_null());
  EXPECT_TRUE(v["carry_gate"].is_null());
  EXPECT_DOUBLE_EQ(v["sentence_w1"], report::wasserstein1({6, 10}, {5, 10, 15}));
  EXPECT_TRUE(cstde_table_values(cstde_result(12, 110, 1010, 40, {}), base, ref)["sentence_w1"].is_null());
  // No curves: neither the validation loss nor the token multiplier is measured.
  EXPECT_TRUE(v["val_loss"].is_null());
  EXPECT_TRUE(v["token_multiplier"].is_null());
  // With curves: the baseline reaches the run's 4.0 at 10,000 tokens, the run at 1,000: 10x.
  auto base_c = base, run_c = run;
  base_c.curve = {{100, 6.0}, {1000, 5.0}, {10000, 4.0}};
  run_c.curve = {{100, 5.5}, {1000, 4.0}};
  json w = cstde_table_values(run_c, base_c, ref);
  EXPECT_DOUBLE_EQ(w["val_loss"], 4.0);
  EXPECT_NEAR(w["token_multiplier"].get<double>(), 10.0, 1e-9);
  run_c.curve.back().loss = 3.0;  // beyond the baseline's budget: not measured, not infinite
  EXPECT_TRUE(cstde_table_values(run_c, base_c, ref)["token_multiplier"].is_null());
}

// A suite result with known numbers in every section the summary reads.
json suite_fixture() {
  json recall = json::array();
  auto add = [&](const char* bucket, int min_count, int k, double r, double loss, int targets) {
    recall.push_back({{"bucket", bucket}, {"min_count", min_count}, {"k", k}, {"recall", r}, {"loss", loss}, {"targets", targets}});
  };
  add("<10", 0, 1, 0.0, 9.0, 10);
  add("<10", 0, 10, 0.1, 9.0, 10);
  add("10-99", 10, 1, 0.1, 7.0, 30);
  add("10-99", 10, 10, 0.3, 7.0, 30);
  add("100-999", 100, 1, 0.2, 5.0, 60);
  add("100-999", 100, 10, 0.5, 5.0, 60);
  add(">=1000", 1000, 1, 0.4, 3.0, 100);
  add(">=1000", 1000, 10, 0.8, 3.0, 100);
  return {{"recall", recall},
          {"attacks", json::array({{{"attack", "random"}, {"strength", 0.1}, {"loss_increase", 0.01}},
                                   {{"attack", "gradient_sign"}, {"strength", 0.1}, {"loss_increase", 0.5}},
                                   {{"attack", "gradient_sign"}, {"strength", 0.2}, {"loss_increase", 0.9}},
                                   {{"attack", "typo"}, {"strength", 2}, {"loss_increase", 0.02}},
                                   {{"attack", "hotflip"}, {"strength", 2}, {"loss_increase", 0.4}}})},
          {"agreement", json::array({{{"attractors", 0}, {"accuracy", 0.9}}, {{"attractors", 2}, {"accuracy", 0.6}},
                                     {{"attractors", 4}, {"accuracy", 0.3}}})},
          {"key_value", json::array({{{"distance", 8}, {"recall", 0.5}}, {{"distance", 32}, {"recall", 0.1}}})},
          {"loss_by_position", json::array({{{"position", 0}, {"loss", 6.0}, {"tokens", 10}},
                                            {{"position", 16}, {"loss", 5.0}, {"tokens", 10}},
                                            {{"position", 32}, {"loss", 4.0}, {"tokens", 30}},
                                            {{"position", 64}, {"loss", nullptr}, {"tokens", 0}}})},
          {"stability", {{"self_similarity_adjusted", 0.2}, {"knn_overlap", 0.3}}},
          {"isotropy", 0.4},
          {"isoscore", 0.05},
          {"wordnet", {{"hits", 0.07}}}};
}

json summary_of(const json& suite) { return hcma_summary(HcmaSuiteResult::from_json(suite, "fixture")); }

TEST(HcmaSuiteResult, JsonRoundTripsThroughTheTypedResult) {
  json s = suite_fixture();
  s["corpus"] = "brown";
  s["split"] = "test";
  s["long_corpus"] = "kjv";
  s["seed"] = 3;
  s["wall_s"] = 1.5;
  s["inference"] = {{"tokens_per_s", 100.0}, {"parameter_mib", 2.0}, {"peak_rss_mib", 50.0}};
  const json back = HcmaSuiteResult::from_json(s, "fixture").to_json();
  EXPECT_EQ(back["recall"], s["recall"]);
  EXPECT_EQ(back["loss_by_position"][3]["loss"], nullptr);  // undefined stays null, not NaN
  EXPECT_EQ(back["agreement"][1]["accuracy"], 0.6);
  EXPECT_EQ(back["inference"]["tokens_per_s"], 100.0);
  EXPECT_EQ(back["corpus"], "brown");
  EXPECT_EQ(HcmaSuiteResult::from_json(back, "again").to_json(), back);
  json bad = s;
  bad["recall"][0]["targets"] = "many";
  EXPECT_NE(error_of([&] { HcmaSuiteResult::from_json(bad, "r.json"); }).find("r.json"), std::string::npos);
  // The rare targets' ranks round-trip; older results have none; broken ones are refused.
  EXPECT_TRUE(HcmaSuiteResult::from_json(s, "old").rare_ranks.targets.empty());
  s["rare_ranks"] = {{"below", 100}, {"positions", {3, 9, 12}}, {"ranks", {0, 40, 2}}};
  const auto withranks = HcmaSuiteResult::from_json(s, "fixture");
  ASSERT_EQ(withranks.rare_ranks.targets.size(), 3u);
  EXPECT_EQ(withranks.rare_ranks.targets[1].position, 9);
  EXPECT_EQ(withranks.rare_ranks.targets[1].rank, 40);
  EXPECT_EQ(withranks.to_json()["rare_ranks"], s["rare_ranks"]);
  json uneven = s;
  uneven["rare_ranks"]["ranks"] = {0, 1};
  EXPECT_NE(error_of([&] { HcmaSuiteResult::from_json(uneven, "r.json"); }).find("3 positions but 2 ranks"), std::string::npos);
  json unsorted = s;
  unsorted["rare_ranks"]["positions"] = {3, 3, 12};
  EXPECT_NE(error_of([&] { HcmaSuiteResult::from_json(unsorted, "r.json"); }).find("ascending"), std::string::npos);
}

// Paired rare recall by hand: at k = 10, seed 1 pairs (hit, miss) x 1, (miss, hit) x 3,
// (hit, hit) x 1, (miss, miss) x 1; seed 2 adds one (miss, hit). gained 4, lost 1: McNemar
// p = 2 P(X <= 1 | n = 5) = 2 * 6/32 = 0.375.
TEST(HcmaPaired, McNemarOnPairedRareTargets) {
  auto suite = [](std::vector<std::int64_t> positions, std::vector<std::int64_t> ranks) {
    HcmaSuiteResult r;
    r.rare_ranks.below = 100;
    for (std::size_t i = 0; i < positions.size(); ++i) r.rare_ranks.targets.push_back({positions[i], ranks[i]});
    return r;
  };
  SuiteResults results;
  results[{"original", 1}] = suite({1, 2, 3, 4, 5, 6}, {0, 50, 50, 50, 3, 50});
  results[{"hcma", 1}] = suite({1, 2, 3, 4, 5, 6}, {50, 9, 0, 1, 9, 10});
  results[{"original", 2}] = suite({7}, {12});
  results[{"hcma", 2}] = suite({7}, {4});
  const auto rows = paired_rare_recall(results, "original", {10}, 500, 1);
  ASSERT_EQ(rows.size(), 1u);
  const auto& r = rows[0];
  EXPECT_EQ(r.variant, "hcma");
  EXPECT_EQ(r.targets, 7);
  EXPECT_EQ(r.gained, 4);
  EXPECT_EQ(r.lost, 1);
  EXPECT_DOUBLE_EQ(r.recall_original, 2.0 / 7);
  EXPECT_DOUBLE_EQ(r.recall_variant, 5.0 / 7);
  EXPECT_NEAR(r.p, 0.375, 1e-12);
  EXPECT_EQ(r.verdict, report::Verdict::no_difference);
  EXPECT_LE(r.difference.lo, 3.0 / 7);
  EXPECT_GE(r.difference.hi, 3.0 / 7);
  const std::string md = paired_recall_markdown(rows, 100);
  EXPECT_NE(md.find("| hcma | 10 | 7 | 0.2857 | 0.7143 | +0.4286 ["), std::string::npos) << md;
  EXPECT_NE(md.find("| 4 | 1 | 0.375 | 0.375 | no significant difference |"), std::string::npos) << md;
  // Different targets at one seed cannot pair.
  results[{"hcma", 2}] = suite({8}, {4});
  EXPECT_NE(error_of([&] { paired_rare_recall(results, "original", {10}); }).find("hcma seed 2"), std::string::npos);
}

// Robustness at matched clean loss (issue 15, item 4) by hand: hcma and its matched shrink at
// fgsm 0.1 over 3 seeds, attacked losses hcma {5.0, 5.2, 5.1} (mean 5.1, sd 0.1) and shrink
// {5.5, 5.6, 5.7} (mean 5.6, sd 0.1): intervals [5.0, 5.2] and [5.5, 5.7] do not overlap, better;
// paired differences {-0.5, -0.4, -0.6}: -0.5 ± 0.1. At random 0.1 they overlap: no verdict.
// A variant measured with one seed gets none; a method no shrink matches is not listed.
TEST(HcmaPaired, RobustnessAtMatchedCleanLossByHand) {
  auto suite = [](double clean, double fgsm, double random) {
    HcmaSuiteResult r;
    eval::AttackResult a;
    a.attack = "gradient_sign";
    a.strength = 0.1;
    a.clean_loss = clean;
    a.attacked_loss = fgsm;
    r.attacks.push_back(a);
    a.attack = "random";
    a.attacked_loss = random;
    r.attacks.push_back(a);
    return r;
  };
  SuiteResults results;
  const double hf[] = {5.0, 5.2, 5.1}, sf[] = {5.5, 5.6, 5.7}, hr[] = {4.6, 4.7, 4.8}, sr[] = {4.65, 4.75, 4.7};
  for (int i = 0; i < 3; ++i) {
    results[{"hcma", i + 1}] = suite(4.5 + 0.01 * i, hf[i], hr[i]);
    results[{"shrink-m", i + 1}] = suite(4.5, sf[i], sr[i]);
    results[{"abtt", i + 1}] = suite(4.4, 9, 9);
  }
  results[{"shrink-1", 1}] = suite(4.5, 6, 6);
  results[{"emb-finetune", 1}] = suite(4.5, 5, 5);
  const auto rows = matched_robustness(results, {{"shrink-m", "hcma"}, {"shrink-1", "emb-finetune"}});
  ASSERT_EQ(rows.size(), 4u);  // (emb-finetune, shrink-1) x 2 attacks, then (hcma, shrink-m) x 2
  const auto& f = rows[2];
  EXPECT_EQ(f.method, "hcma");
  EXPECT_EQ(f.shrink, "shrink-m");
  EXPECT_EQ(f.attack, "gradient_sign");
  EXPECT_EQ(f.seeds, 3);
  EXPECT_NEAR(f.attacked_method, 5.1, 1e-12);
  EXPECT_NEAR(f.attacked_method_sd, 0.1, 1e-12);
  EXPECT_NEAR(f.attacked_shrink, 5.6, 1e-12);
  EXPECT_NEAR(f.attacked_shrink_sd, 0.1, 1e-12);
  // Paired differences -0.5, -0.4, -0.6: mean -0.5, sd 0.1, t = -0.5 / (0.1 / sqrt 3) on 2 degrees
  // of freedom, whose two-sided p is 1 - |t| / sqrt(t^2 + 2) (Student's t with 2 df in closed
  // form); the 95 % interval is mean ± t(0.975, 2) sd / sqrt 3, t(0.975, 2) = 4.302653. Holm over
  // the two rows with 2+ seeds (the random attack's p is 1): 2p.
  EXPECT_EQ(f.difference.n, 3);
  EXPECT_NEAR(f.difference.mean, -0.5, 1e-12);
  EXPECT_NEAR(f.difference.sd, 0.1, 1e-12);
  const double t = -0.5 / (0.1 / std::sqrt(3.0)), p = 1 - std::fabs(t) / std::sqrt(t * t + 2);
  EXPECT_NEAR(f.difference.p, p, 1e-9);
  EXPECT_NEAR(f.difference.p_holm, 2 * p, 1e-9);
  EXPECT_NEAR(f.difference.lo, -0.5 - 4.302653 * 0.1 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(f.difference.hi, -0.5 + 4.302653 * 0.1 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(f.clean_method, 4.51, 1e-12);
  EXPECT_NEAR(f.clean_shrink, 4.5, 1e-12);
  EXPECT_EQ(f.verdict, "better");
  EXPECT_EQ(rows[3].attack, "random");
  EXPECT_EQ(rows[3].verdict, "no significant difference");
  EXPECT_EQ(rows[0].method, "emb-finetune");
  EXPECT_EQ(rows[0].seeds, 1);
  EXPECT_EQ(rows[0].verdict, std::string(report::verdict_text(report::Verdict::single_seed)));
  const std::string md = matched_robustness_markdown(rows);
  EXPECT_NE(md.find("| hcma | shrink-m | gradient_sign | 0.1 | 3 | 4.5100 / 4.5000 | 5.1000 ± 0.1000 | 5.6000 ± 0.1000 | " +
                    report::format_difference(f.difference) + " | " + report::format_p(2 * p) + " | better |"),
            std::string::npos)
      << md;
  EXPECT_TRUE(matched_robustness_markdown({}).empty());
  // Swapped roles: the shrink more robust, the method worse.
  SuiteResults swapped;
  for (int i = 0; i < 3; ++i) {
    swapped[{"hcma", i + 1}] = suite(4.5, sf[i], sr[i]);
    swapped[{"shrink-m", i + 1}] = suite(4.5, hf[i], hr[i]);
  }
  EXPECT_EQ(matched_robustness(swapped, {{"shrink-m", "hcma"}})[0].verdict, "worse");
}

TEST(HcmaSummary, PoolsBucketsByTargetsAndPicksEachHeadline) {
  json v = summary_of(suite_fixture());
  EXPECT_DOUBLE_EQ(v["rare_recall10"], (0.1 * 10 + 0.3 * 30) / 40);  // targets seen < 100 times
  EXPECT_DOUBLE_EQ(v["rare_recall1"], (0.0 * 10 + 0.1 * 30) / 40);
  EXPECT_DOUBLE_EQ(v["recall10_lt10"], 0.1);
  EXPECT_DOUBLE_EQ(v["recall10_10_99"], 0.3);
  EXPECT_DOUBLE_EQ(v["frequent_recall10"], 0.8);
  EXPECT_DOUBLE_EQ(v["frequent_ppl"], std::exp(3.0));
  EXPECT_NEAR(v["ppl"].get<double>(), std::exp((9.0 * 10 + 7.0 * 30 + 5.0 * 60 + 3.0 * 100) / 200), 1e-9);
  EXPECT_DOUBLE_EQ(v["random_0.1"], 0.01);
  EXPECT_DOUBLE_EQ(v["fgsm_0.1"], 0.5);
  EXPECT_DOUBLE_EQ(v["typo_2"], 0.02);
  EXPECT_DOUBLE_EQ(v["hotflip_2"], 0.4);
  EXPECT_DOUBLE_EQ(v["agreement_0"], 0.9);
  EXPECT_DOUBLE_EQ(v["agreement_4"], 0.3);
  EXPECT_DOUBLE_EQ(v["agreement_mean"], 0.6);
  EXPECT_DOUBLE_EQ(v["kv_recall"], 0.3);
  // Second half of the context: positions >= 64 / 2 with a loss -> only position 32.
  EXPECT_DOUBLE_EQ(v["late_loss"], 4.0);
  EXPECT_DOUBLE_EQ(v["isotropy"], 0.4);
  EXPECT_DOUBLE_EQ(v["wordnet_hits10"], 0.07);
  EXPECT_FALSE(v.contains("tokens_per_s"));  // no inference section: not measured
  EXPECT_TRUE(v["loss_after_rare"].is_null());  // an older result without recall_after_input
  // After a rare input: the buckets < 100 pooled by targets, as for the targets' own counts.
  json s = suite_fixture();
  s["recall_after_input"] = json::array(
      {{{"bucket", "<10"}, {"min_count", 0}, {"k", 1}, {"recall", 0.0}, {"loss", 8.0}, {"targets", 20}},
       {{"bucket", "<10"}, {"min_count", 0}, {"k", 10}, {"recall", 0.2}, {"loss", 8.0}, {"targets", 20}},
       {{"bucket", "10-99"}, {"min_count", 10}, {"k", 1}, {"recall", 0.1}, {"loss", 6.0}, {"targets", 60}},
       {{"bucket", "10-99"}, {"min_count", 10}, {"k", 10}, {"recall", 0.4}, {"loss", 6.0}, {"targets", 60}},
       {{"bucket", ">=1000"}, {"min_count", 1000}, {"k", 1}, {"recall", 0.5}, {"loss", 2.0}, {"targets", 120}}});
  json w = summary_of(s);
  EXPECT_DOUBLE_EQ(w["loss_after_rare"], (8.0 * 20 + 6.0 * 60) / 80);
  EXPECT_DOUBLE_EQ(w["recall10_after_rare"], (0.2 * 20 + 0.4 * 60) / 80);
  EXPECT_EQ(HcmaSuiteResult::from_json(s, "f").to_json()["recall_after_input"], s["recall_after_input"]);
}

TEST(HcmaSummary, UndefinedQuantitiesAreNullNotNaN) {
  json s = suite_fixture();
  s["recall"] = json::array();
  s["attacks"] = json::array();
  json v = summary_of(s);
  EXPECT_TRUE(v["rare_recall10"].is_null());
  EXPECT_TRUE(v["frequent_ppl"].is_null());
  EXPECT_TRUE(v["fgsm_0.1"].is_null());
}

// The catalogue and the summary name the same quantities: a value without a column would be
// dropped from the table, a column without a value would always read "not measured".
TEST(HcmaMetrics, TheCatalogueListsExactlyWhatTheSummaryComputes) {
  json s = suite_fixture();
  s["inference"] = {{"tokens_per_s", 100.0}, {"parameter_mib", 2.0}, {"peak_rss_mib", 50.0}};
  std::set<std::string> summary_keys, catalogue;
  const json summary = summary_of(s);
  for (auto it = summary.begin(); it != summary.end(); ++it) summary_keys.insert(it.key());
  for (const auto& m : hcma_metrics()) EXPECT_TRUE(catalogue.insert(m.key).second) << m.key << " listed twice";
  summary_keys.insert({"align_wall_s", "align_peak_rss_mib"});  // measured around the align step
  EXPECT_EQ(catalogue, summary_keys);
  // Perplexity multiplies: geometric over seeds; recall is a share: arithmetic, higher is better.
  for (const auto& m : hcma_metrics()) {
    if (m.key == "ppl" || m.key == "frequent_ppl") EXPECT_EQ(m.aggregation, report::Aggregation::geometric) << m.key;
    if (m.key == "rare_recall10") {
      EXPECT_EQ(m.aggregation, report::Aggregation::mean);
      EXPECT_FALSE(m.lower_is_better);
      EXPECT_EQ(m.unit, "fraction");
    }
  }
}

TEST(CstdeMetrics, TheCatalogueListsExactlyWhatTheTableRowHolds) {
  const auto base = cstde_result(10, 100, 1000, 40, {5, 10});
  json v = cstde_table_values(base, base, {5, 10, 15});
  std::set<std::string> row, catalogue;
  for (auto it = v.begin(); it != v.end(); ++it) row.insert(it.key());
  for (const auto& m : cstde_metrics({"brown"})) EXPECT_TRUE(catalogue.insert(m.key).second) << m.key << " listed twice";
  EXPECT_EQ(catalogue, row);
  for (const auto& m : cstde_metrics({"brown"}))
    if (m.key.size() > 4 && m.key.substr(m.key.size() - 4) == "_rel") EXPECT_EQ(m.aggregation, report::Aggregation::geometric);
}

TEST(HcmaSuiteOptions, ReadsEveryFieldAndRefusesUnknownOnes) {
  HcmaSuiteOptions h;
  read_hcma_suite_options({{"corpus", "kjv"}, {"split", "val"}, {"eps", {0.3}}, {"kv_trials", 5}, {"speed", false}}, "cfg.json", h);
  EXPECT_EQ(h.corpus, "kjv");
  EXPECT_EQ(h.split, "val");
  EXPECT_EQ(h.eps, std::vector<double>{0.3});
  EXPECT_EQ(h.kv_trials, 5);
  EXPECT_FALSE(h.speed);
  EXPECT_NE(error_of([&] { read_hcma_suite_options({{"kv_trails", 5}}, "cfg.json", h); }).find("kv_trails"), std::string::npos);
  EXPECT_NE(error_of([&] { read_hcma_suite_options({{"split", "dev"}}, "cfg.json", h); }).find("field 'split' must be train, val or test"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_hcma_suite_options({{"kv_trials", "many"}}, "cfg.json", h); }).find("cfg.json"),
            std::string::npos);
}

}  // namespace
