// Mean ± spread, the paired comparison and Holm's correction, the bootstrap, Wasserstein-1 and PCA against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "report/experiment_logs.h"
#include "report/pca.h"
#include "report/metric.h"
#include "report/stats.h"
#include "core/error.h"

using namespace structlm::report;

TEST(ReportStats, MeanAndSampleStandardDeviation) {
  Spread s = summarize({3.0, 3.2, 3.4});
  EXPECT_EQ(s.n, 3);
  EXPECT_NEAR(s.mean, 3.2, 1e-12);
  EXPECT_NEAR(s.sd, 0.2, 1e-12);  // sqrt((0.04 + 0 + 0.04) / 2)
  EXPECT_DOUBLE_EQ(s.min, 3.0);
  EXPECT_DOUBLE_EQ(s.max, 3.4);
  EXPECT_NEAR(summarize({1, 2, 3, 4}).sd, std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_EQ(summarize({}).n, 0);
  EXPECT_EQ(summarize({7}).sd, 0);
}

TEST(ReportStats, FormatSaysTheSeedCount) {
  EXPECT_EQ(format_spread(summarize({3.0, 3.2, 3.4})), "3.2000 ± 0.2000 (3 seeds)");
  EXPECT_EQ(format_spread(summarize({2.9})), "2.9000 (1 seed)");
  EXPECT_EQ(format_spread(summarize({1, 2}), 1), "1.5 ± 0.7 (2 seeds)");
  EXPECT_EQ(format_spread(summarize({})), "n/a");
}

// Student t against printed tables: t(0.975; 1, 2, 4, 30) = 12.7062, 4.3027, 2.7764, 2.0423.
TEST(ReportStats, StudentTMatchesTheTables) {
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706205, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.302653, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.776445, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.042272, 1e-5);
  EXPECT_NEAR(student_t_two_sided_p(2.776445, 4), 0.05, 1e-6);
  EXPECT_NEAR(student_t_two_sided_p(-2.776445, 4), 0.05, 1e-6);
  EXPECT_NEAR(student_t_two_sided_p(0, 3), 1.0, 1e-12);
  // df 2 has a closed form: two-sided p = 1 − |t| / sqrt(2 + t²).
  EXPECT_NEAR(student_t_two_sided_p(3.0, 2), 1 - 3 / std::sqrt(11.0), 1e-12);
}

// Paired by seed, worked by hand: differences −0.20, −0.25, −0.30 have mean −0.25, sd 0.05,
// se 0.05/√3, t = −5√3 (t² = 75), so p = 1 − √75/√77 (df 2) = 0.013072 and the interval is
// −0.25 ∓ 4.302653 · 0.05/√3.
TEST(ReportStats, PairedDifferenceByHand) {
  std::map<long long, double> base{{1, 1.10}, {2, 1.20}, {3, 1.30}, {9, 5.0}};  // seed 9 has no partner
  std::map<long long, double> cand{{1, 0.90}, {2, 0.95}, {3, 1.00}, {7, 0.1}};
  PairedDifference d = paired_difference(cand, base, false);
  EXPECT_EQ(d.n, 3);
  EXPECT_NEAR(d.mean, -0.25, 1e-12);
  EXPECT_NEAR(d.sd, 0.05, 1e-12);
  EXPECT_NEAR(d.p, 1 - std::sqrt(75.0 / 77.0), 1e-9);
  const double half = 4.302653 * 0.05 / std::sqrt(3.0);
  EXPECT_NEAR(d.lo, -0.25 - half, 1e-6);
  EXPECT_NEAR(d.hi, -0.25 + half, 1e-6);
  EXPECT_EQ(verdict(d, true), Verdict::better);
  EXPECT_EQ(verdict(d, false), Verdict::worse);
  EXPECT_EQ(format_difference(d, 3), "-0.250 [-0.374, -0.126]");
  // Unpaired means would say the same here, but pairing is what removes a seed's common luck:
  // a candidate that is every baseline seed minus 0.01 differs, though the spreads overlap.
  PairedDifference tiny = paired_difference({{1, 1.09}, {2, 1.19}, {3, 1.29}}, base, false);
  EXPECT_EQ(tiny.sd, 0);
  EXPECT_EQ(tiny.p, 0);
  EXPECT_EQ(verdict(tiny, true), Verdict::better);
  // Equal at every seed: no difference; scattered around 0: no difference.
  EXPECT_EQ(verdict(paired_difference(base, base, false), true), Verdict::no_difference);
  EXPECT_EQ(verdict(paired_difference({{1, 1.15}, {2, 1.17}, {3, 1.31}}, base, false), true), Verdict::no_difference);
  // One pair: no test.
  EXPECT_EQ(verdict(paired_difference({{1, 0.5}}, base, false), true), Verdict::single_seed);
  EXPECT_EQ(format_difference(paired_difference({{1, 0.5}}, base, false), 2), "-0.60");
  EXPECT_STREQ(verdict_text(Verdict::no_difference), "no significant difference");
}

// Geometric metrics pair as log ratios: ratios 0.5 at every seed is ×0.5 exactly.
// The t interval of a mean over seeds, worked by hand: 0.10, 0.12, 0.14 have mean 0.12, sd 0.02,
// so 0.12 ∓ 4.302653 · 0.02/√3 = [0.070317, 0.169683]; one seed is the point; geometric: ×/÷.
TEST(ReportStats, MeanTIntervalByHand) {
  Interval ci = mean_t_interval(summarize({0.10, 0.12, 0.14}));
  EXPECT_NEAR(ci.lo, 0.070317, 1e-6);
  EXPECT_NEAR(ci.hi, 0.169683, 1e-6);
  ci = mean_t_interval(summarize({0.3}));
  EXPECT_EQ(ci.lo, 0.3);
  EXPECT_EQ(ci.hi, 0.3);
  // Logs 0, log 2: mean √2, sd log2/√2, half-width 12.706205 · (log 2)/2 in log space.
  const Interval g = mean_t_interval(summarize_geometric({1.0, 2.0}));
  EXPECT_NEAR(g.lo, std::sqrt(2.0) * std::exp(-12.706205 * std::log(2.0) / 2), 1e-6);
  EXPECT_NEAR(g.hi, std::sqrt(2.0) * std::exp(12.706205 * std::log(2.0) / 2), 1e-4);
  // A wider level is wider: t(0.995, 2) = 9.924843.
  EXPECT_NEAR(mean_t_interval(summarize({0.10, 0.12, 0.14}), 0.99).hi, 0.12 + 9.924843 * 0.02 / std::sqrt(3.0), 1e-6);
}

// Wilson score intervals against the textbook values (z = 1.959964): 20 of 100 gives
// [0.133367, 0.288829]; 0 of 10 gives [0, 0.277533] (the Wald interval would be the point 0);
// 10 of 10 mirrors it. No trials, or a proportion outside [0, 1]: NaNs.
TEST(ReportStats, WilsonScoreInterval) {
  Interval w = wilson_interval(0.2, 100);
  EXPECT_NEAR(w.lo, 0.133367, 1e-6);
  EXPECT_NEAR(w.hi, 0.288829, 1e-6);
  w = wilson_interval(0.0, 10);
  EXPECT_EQ(w.lo, 0.0);
  EXPECT_NEAR(w.hi, 0.277533, 1e-6);
  w = wilson_interval(1.0, 10);
  EXPECT_NEAR(w.lo, 0.722467, 1e-6);
  EXPECT_LE(w.hi, 1.0);
  EXPECT_NEAR(w.hi, 1.0, 1e-12);
  EXPECT_TRUE(std::isnan(wilson_interval(0.5, 0).lo));
  EXPECT_TRUE(std::isnan(wilson_interval(1.5, 10).hi));
}

TEST(ReportStats, GeometricMetricsPairAsRatios) {
  std::map<long long, double> base{{1, 40}, {2, 50}}, cand{{1, 20}, {2, 25}};
  PairedDifference d = paired_difference(cand, base, true);
  EXPECT_NEAR(d.mean, std::log(0.5), 1e-12);
  EXPECT_EQ(format_difference(d, 2), "×0.5000 [0.5000, 0.5000]");
  EXPECT_THROW(paired_difference({{1, 0.0}}, base, true), structlm::Error);
}

// Holm by hand: p = .01 .04 .03 .005 (m = 4) -> sorted .005·4 = .02, .01·3 = .03, .03·2 = .06,
// max(.06, .04·1) = .06.
TEST(ReportStats, HolmStepDown) {
  const auto a = holm_adjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(a.size(), 4u);
  EXPECT_NEAR(a[0], 0.03, 1e-12);
  EXPECT_NEAR(a[1], 0.06, 1e-12);
  EXPECT_NEAR(a[2], 0.06, 1e-12);
  EXPECT_NEAR(a[3], 0.02, 1e-12);
  EXPECT_NEAR(holm_adjust({0.6, 0.9})[0], 1.0, 1e-12);  // capped at 1
  EXPECT_TRUE(holm_adjust({}).empty());
  EXPECT_EQ(format_p(0.0261437), "0.0261");
  EXPECT_EQ(format_p(1.0), "1");
  EXPECT_EQ(format_p(1e-7), "< 0.0001");
}

// McNemar exact by hand: b 0, c 5 -> 2 (1/2)^5 = 0.0625; b 1, c 9 -> 2 (1 + 10)/1024; b = c -> 1.
TEST(ReportStats, McNemarExact) {
  EXPECT_NEAR(mcnemar_exact_p(0, 5), 0.0625, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(9, 1), 22.0 / 1024, 1e-12);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(3, 3), 1.0);
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);
}

TEST(ReportStats, BootstrapIntervalOfAMean) {
  // Constant values: the interval is the point.
  Interval c = bootstrap_mean_interval({2.5, 2.5, 2.5}, 200, 1);
  EXPECT_DOUBLE_EQ(c.lo, 2.5);
  EXPECT_DOUBLE_EQ(c.hi, 2.5);
  // Two values {0, 1}: a resample's mean is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4, so the
  // 2.5th and 97.5th percentiles of many resamples are 0 and 1.
  Interval b = bootstrap_mean_interval({0, 1}, 4000, 7);
  EXPECT_DOUBLE_EQ(b.lo, 0);
  EXPECT_DOUBLE_EQ(b.hi, 1);
  // Many values: close to the normal interval mean ± 1.96 sd/√n (within 10 % of its half-width).
  std::vector<double> v;
  for (int i = 0; i < 400; ++i) v.push_back(std::sin(i * 1.7) * 2 + 0.3);
  const Spread s = summarize(v);
  const double half = 1.96 * s.sd / std::sqrt(400.0);
  Interval n = bootstrap_mean_interval(v, 4000, 3);
  EXPECT_NEAR(n.lo, s.mean - half, 0.1 * half);
  EXPECT_NEAR(n.hi, s.mean + half, 0.1 * half);
  // The same seed draws the same resamples.
  Interval again = bootstrap_mean_interval(v, 4000, 3);
  EXPECT_EQ(n.lo, again.lo);
  EXPECT_EQ(n.hi, again.hi);
  EXPECT_TRUE(std::isnan(bootstrap_mean_interval({}, 10, 1).lo));
}

TEST(ReportStats, Wasserstein1) {
  EXPECT_DOUBLE_EQ(wasserstein1({0}, {1}), 1.0);
  EXPECT_DOUBLE_EQ(wasserstein1({1, 2, 3}, {1, 2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(wasserstein1({2, 3, 4}, {1, 2, 3}), 1.0);  // a shift by one
  // {0, 0} vs {0, 4}: half the mass moves 4 -> 2.
  EXPECT_DOUBLE_EQ(wasserstein1({0, 0}, {0, 4}), 2.0);
  EXPECT_TRUE(std::isnan(wasserstein1({}, {1})));
}

TEST(ReportStats, PcaFindsTheLongAxisFirst) {
  // Points on a line along (1, 1, 0) with a little spread along (0, 0, 1).
  std::vector<std::vector<double>> rows;
  for (int i = -5; i <= 5; ++i) rows.push_back({double(i), double(i), std::abs(i) % 2 ? 0.1 : -0.1});  // z uncorrelated with i
  Projection2D p = pca_2d(rows);
  ASSERT_EQ(p.x.size(), rows.size());
  EXPECT_NEAR(p.x.back(), 5 * std::sqrt(2.0), 1e-6);  // sign fixed: largest loading positive
  EXPECT_NEAR(p.x.front(), -5 * std::sqrt(2.0), 1e-6);
  EXPECT_GT(p.explained[0], 0.99);
  EXPECT_LT(p.explained[1], 0.01);
  EXPECT_NEAR(p.explained[0] + p.explained[1], 1.0, 1e-9);
}

// Geometric aggregation, by hand: values 2 and 8 have logs ln2 and 3 ln2, mean 2 ln2 -> 4; the
// sd of the logs is sqrt(2) ln2, so the interval is 4 ×/÷ 2^sqrt(2).
TEST(ReportStats, GeometricMeanAndItsMultiplicativeSpread) {
  Spread s = summarize_geometric({2.0, 8.0});
  EXPECT_TRUE(s.geometric);
  EXPECT_EQ(s.n, 2);
  EXPECT_NEAR(s.mean, 4.0, 1e-12);
  const double f = std::pow(2.0, std::sqrt(2.0));
  EXPECT_NEAR(s.lo, 4.0 / f, 1e-12);
  EXPECT_NEAR(s.hi, 4.0 * f, 1e-12);
  EXPECT_DOUBLE_EQ(s.min, 2.0);
  EXPECT_DOUBLE_EQ(s.max, 8.0);
  EXPECT_EQ(format_spread(s, 2), "4.00 ×/÷ " + format_number(f, 4) + " (2 seeds)");
  EXPECT_EQ(format_spread(summarize_geometric({3.0}), 1), "3.0 (1 seed)");
  EXPECT_EQ(summarize_geometric({}).n, 0);
  EXPECT_THROW(summarize_geometric({1.0, 0.0}), structlm::Error);
  // A ratio r and its reciprocal average to 1 geometrically, not arithmetically.
  EXPECT_NEAR(summarize_geometric({0.5, 2.0}).mean, 1.0, 1e-12);
  EXPECT_NEAR(summarize({0.5, 2.0}).mean, 1.25, 1e-12);
  // Arithmetic spreads carry the interval mean ∓ sd.
  Spread a = summarize({3.0, 3.2, 3.4});
  EXPECT_NEAR(a.lo, 3.0, 1e-12);
  EXPECT_NEAR(a.hi, 3.4, 1e-12);
}

TEST(ReportMetric, JsonRoundTripAndDefaults) {
  Metric m{"ppl", "perplexity", "", true, Aggregation::geometric, 3};
  EXPECT_EQ(Metric::from_json(m.to_json(), "x").to_json(), m.to_json());
  EXPECT_EQ(m.to_json()["aggregation"], "geometric");
  const Metric timed{"t", "step time", "ms"};
  EXPECT_EQ(timed.heading(), "step time (ms)");
  EXPECT_EQ(m.heading(), "perplexity");
  // An experiment.json written before the catalogue had units and aggregations still reads.
  Metric old = Metric::from_json({{"key", "bpb"}}, "x");
  EXPECT_EQ(old.label, "bpb");
  EXPECT_EQ(old.unit, "");
  EXPECT_TRUE(old.lower_is_better);
  EXPECT_EQ(old.aggregation, Aggregation::mean);
  EXPECT_EQ(old.digits, 4);
  try {
    Metric::from_json({{"key", "bpb"}, {"aggregation", "median"}}, "e.json: metrics[0]");
    FAIL() << "an unknown aggregation was accepted";
  } catch (const structlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("e.json: metrics[0]: field 'aggregation' must be \"mean\" or \"geometric\""),
              std::string::npos);
  }
}

// The typed raw-log lines read back what they write, and name the line when a field is wrong.
TEST(ReportLogLines, RoundTripAndErrorsNameTheLine) {
  RecallLine r{"", "hcma", 2, 10, "<10", 0, 0.25, 40};
  EXPECT_EQ(RecallLine::from_json(r.to_json(), "f:1").to_json(), r.to_json());
  AttackLine a{"", "hcma", 2, "typo", 2, 0.5, std::nullopt};
  EXPECT_FALSE(a.to_json().contains("flip_rate"));
  a.flip_rate = 0.1;
  EXPECT_EQ(AttackLine::from_json(a.to_json(), "f:1").to_json(), a.to_json());
  a.clean_loss = 3.5;
  a.attacked_loss = 4.0;
  EXPECT_EQ(a.to_json().dump(), R"({"attack":"typo","attacked_loss":4.0,"clean_loss":3.5,"flip_rate":0.1,"loss_increase":0.5,)"
                                R"("seed":2,"strength":2.0,"variant":"hcma"})");
  EXPECT_EQ(AttackLine::from_json(a.to_json(), "f:1").to_json(), a.to_json());
  MovementLine mv{"", "hcma", 3, "10-99", 10, 0.25, 1706};
  EXPECT_EQ(mv.to_json().dump(), R"({"bucket":"10-99","min_count":10,"relative_move":0.25,"seed":3,"tokens":1706,"variant":"hcma"})");
  EXPECT_EQ(MovementLine::from_json(mv.to_json(), "f:1").to_json(), mv.to_json());
  LossLine l{"", "both", 1, 4, 2.5, 100};
  EXPECT_EQ(l.to_json("distance").dump(), R"({"distance":4,"loss":2.5,"seed":1,"tokens":100,"variant":"both"})");
  EXPECT_EQ(LossLine::from_json(l.to_json("position"), "position", "f:1").to_json("position"), l.to_json("position"));
  auto error = [](auto f) {
    try {
      f();
    } catch (const structlm::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const structlm::json recall = {{"variant", "a"}, {"seed", 1}, {"k", 0}, {"bucket", "b"}, {"min_count", 0}, {"recall", 0.5}};
  EXPECT_EQ(error([&] { RecallLine::from_json(recall, "f:3"); }), "f:3: field 'k' must be >= 1");
  EXPECT_EQ(error([&] {
              structlm::json j = recall;
              j.erase("bucket");
              RecallLine::from_json(j, "f:3");
            }),
            "f:3: missing field 'bucket'");
  EXPECT_NE(error([&] {  // a typo is refused, not ignored
              structlm::json j = recall;
              j["k"] = 1;
              j["recal"] = 0.5;
              RecallLine::from_json(j, "f:3");
            }).find("f:3: unknown field 'recal'"),
            std::string::npos);
  EXPECT_EQ(RecallLine::from_json({{"variant", "a"}, {"seed", 1}, {"k", 1}, {"bucket", "b"}, {"min_count", 0}, {"recall", 0.5}}, "f:4").targets, 0);
  EXPECT_EQ(error([] { LossLine::from_json({{"variant", "a"}, {"seed", 1}, {"position", 1.5}, {"loss", 1}}, "position", "f:2"); }),
            "f:2: field 'position' must be an integer, got 1.5");
  EXPECT_EQ(error([] { AttackLine::from_json({{"variant", "a"}, {"seed", 1}, {"attack", "t"}, {"strength", 1}, {"loss_increase", 0}, {"flip_rate", "x"}}, "f:5"); }).substr(0, 5),
            "f:5: ");
  LengthSample ref{"", "brown", 0, {3, 12}};
  EXPECT_EQ(ref.to_json().dump(), R"({"corpus":"brown","kind":"reference","lengths":[3,12]})");
}
