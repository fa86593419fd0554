// Tables from synthetic run directories: grouping by config, mean ± spread over seeds, the
// experiment sections when their logs are present and one-line notes when they are not.
#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "core/io.h"
#include "core/json.h"
#include "report/document.h"
#include "report/experiment_logs.h"
#include "report/experiment_markdown.h"
#include "report/gnuplot.h"
#include "report/report.h"
#include "report/run_dir.h"
#include "report/sections.h"
#include "synthetic_logs.h"

using namespace structlm;
using namespace structlm::report;
using structlm::test_report::contains;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

namespace {

std::vector<std::string> three_seeds_and_one(const TempDir& t) {
  test_report::write_train_run(t / "a1", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "a2", 2, 2, 4.1, 3.2, 3.3);
  test_report::write_train_run(t / "a3", 2, 3, 4.2, 3.4, 3.5);
  test_report::write_train_run(t / "b1", 4, 1, 3.9, 2.9, 3.0);
  return {t / "a1", t / "a2", t / "a3", t / "b1"};
}

// The synthetic CSTDE logs plus an attention arm over seeds 1-3 (bits/byte 1.00, 1.00, 1.05;
// steps/s 10, 11, 12.5), returned as experiment.json for the contrast tests to extend and write back.
json cstde_logs_with_attention_arm(const TempDir& t) {
  test_report::write_cstde_logs(t.path());
  json j = load_json(t / "cstde/experiment.json");
  const double attention_bpb[3] = {1.00, 1.00, 1.05}, attention_steps[3] = {10, 11, 12.5};
  for (int s = 0; s < 3; ++s)
    j["rows"].push_back({{"variant", "attention"},
                         {"seed", s + 1},
                         {"values", {{"brown_bpb", attention_bpb[s]}, {"steps_per_s", attention_steps[s]}}}});
  return j;
}

}  // namespace

TEST(ReportTables, SeedsOfOneConfigAreAveraged) {
  TempDir t;
  std::string md = to_markdown(build_report(three_seeds_and_one(t)));
  // n_layer=2: train loss 3.0/3.2/3.4 -> 3.2 ± 0.2; val 3.1/3.3/3.5 -> 3.3 ± 0.2, best = final.
  EXPECT_TRUE(contains(md, "| model.n_layer=2 | 3 (1, 2, 3) | 20 ± 0 (3 seeds) | 3.2000 ± 0.2000 (3 seeds) | "
                           "3.3000 ± 0.2000 (3 seeds) | 3.3000 ± 0.2000 (3 seeds) | 1100 ± 0 (3 seeds) |"))
      << md;
  EXPECT_TRUE(contains(md, "| model.n_layer=4 | 1 (1) | 20 (1 seed) | 2.9000 (1 seed) | 3.0000 (1 seed) |")) << md;
  EXPECT_TRUE(contains(md, "CSTDE: omitted, no run directory has cstde/experiment.json")) << md;
  EXPECT_TRUE(contains(md, "HCMA: omitted, no run directory has hcma/experiment.json")) << md;
  EXPECT_TRUE(contains(md, "Test-split evaluation: omitted")) << md;
}

TEST(ReportTables, DifferentTokenizerPathsStillGroupBySeed) {
  TempDir t;
  // write_train_run puts each run's own tokenizer path in its config: same shards, one group.
  test_report::write_train_run(t / "x", 2, 1, 4.0, 3.0, 3.1);
  test_report::write_train_run(t / "y", 2, 2, 4.0, 3.0, 3.1);
  auto a = load_run(t / "x"), b = load_run(t / "y");
  EXPECT_EQ(a.group_key(), b.group_key());
  EXPECT_EQ(a.seed(), 1);
}

TEST(ReportTables, EvaluationTable) {
  TempDir t;
  auto dirs = three_seeds_and_one(t);
  test_report::write_eval(dirs[0], 3.0, 1.10);
  test_report::write_eval(dirs[1], 3.2, 1.20);
  test_report::write_eval(dirs[2], 3.4, 1.30);
  std::string md = to_markdown(build_report({dirs[0], dirs[1], dirs[2]}));
  EXPECT_TRUE(contains(md, "| all runs | brown | test | 1000 ± 0 (3 seeds) | 3.2000 ± 0.2000 (3 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| 1.2000 ± 0.1000 (3 seeds) | 2.5000 ± 0.0000 (3 seeds) |")) << md;
}

TEST(ReportTables, CstdeSection) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  Document d = build_report({t.path()});
  std::string md = to_markdown(d);
  EXPECT_TRUE(contains(md, "## CSTDE experiment")) << md;
  EXPECT_TRUE(contains(md, "| baseline (baseline) | 1.2000 ± 0.1000 (3 seeds) | 11.00 ± 1.00 (3 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| both | 0.9500 ± 0.0500 (3 seeds) | 11.00 ± 0.50 (3 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| init_only | 1.0000 (1 seed) | n/a |")) << md;
  // Paired over seeds (stats_test.cpp works the numbers by hand): bits/byte differences
  // −0.20, −0.25, −0.30 give p 0.0131, and Holm over the table's 2 tested comparisons 0.0261;
  // steps/s differences +0.5, 0, −0.5 give p 1. init_only has one seed, paired with seed 1.
  EXPECT_TRUE(contains(md, "| both | Brown bits/byte | 3 | -0.2500 [-0.3742, -0.1258] | 0.0131 | 0.0261 | better |")) << md;
  EXPECT_TRUE(contains(md, "| both | steps/s | 3 | +0.00 [-1.24, +1.24] | 1 | 1 | no significant difference |")) << md;
  EXPECT_TRUE(contains(md, "| init_only | Brown bits/byte | 1 | -0.1000 | n/a | n/a | too few seeds to tell |")) << md;
  // Loss by distance: baseline at distance 1 over seeds 2.0, 2.2.
  EXPECT_TRUE(contains(md, "| 1 | 2.1000 ± 0.1414 (2 seeds) | 1.9500 ± 0.0707 (2 seeds) |")) << md;
  // Sentence lengths: seed 1 shifted by one (W1 = 1), seed 2 identical (W1 = 0).
  EXPECT_TRUE(contains(md, "| baseline | 6 ± 0 (2 seeds) | 11.00 ± 0.71 (2 seeds) | 0.500 ± 0.707 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "HCMA: omitted")) << md;
  EXPECT_TRUE(contains(md, "Training curves: omitted")) << md;
  int plots = 0;
  for (const auto& s : d.sections)
    for (const auto& b : s.blocks) plots += b.kind == Block::plot && contains(b.fig.svg, "<svg");
  EXPECT_EQ(plots, 2);
}

// E1's token multiplier over training, worked by hand. Baseline curves (tokens -> loss): seed 1
// 100 -> 4.0, 1000 -> 3.0, 10000 -> 2.0; seed 2 the same plus 0.2. Arm "both", seed 1: 3.0 at 100
// (the baseline needs 1000: x10), 2.5 at 1000 (halfway in log tokens between 1000 and 10000:
// 10^3.5 = 3162.28, x3.16), 1.9 at 10000 (never reached: left out); seed 2: 3.7 at 100 (10^2.5:
// x3.16), 2.7 at 1000 (x3.16), 2.2 at 10000 (reached at its last point: x1). Over seeds at 100:
// mean (10 + 3.16228) / 2 = 6.58114, sd 6.83772 / sqrt(2) = 4.834999..., printed 4.83.
TEST(ReportTables, CstdeTokenMultiplierOverTraining) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  std::string lines;
  auto line = [&](const char* variant, int seed, int tokens, double loss) {
    lines += json{{"variant", variant}, {"seed", seed}, {"training_tokens", tokens}, {"loss", loss}, {"tokens", tokens}}.dump() + "\n";
  };
  const int at[3] = {100, 1000, 10000};
  const double base[3] = {4.0, 3.0, 2.0}, both1[3] = {3.0, 2.5, 1.9}, both2[3] = {3.7, 2.7, 2.2};
  for (int k = 0; k < 3; ++k) line("baseline", 1, at[k], base[k]);
  for (int k = 0; k < 3; ++k) line("baseline", 2, at[k], base[k] + 0.2);
  for (int k = 0; k < 3; ++k) line("both", 1, at[k], both1[k]);
  for (int k = 0; k < 3; ++k) line("both", 2, at[k], both2[k]);
  write_file_atomic(t / "cstde/learning_curves.jsonl", lines);
  const std::string md = to_markdown(build_report({t.path()}));
  EXPECT_TRUE(contains(md, "1 point(s) left out: the baseline does not reach that loss")) << md;
  EXPECT_TRUE(contains(md, "| 100 | 6.58 ± 4.83 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| 1000 | 3.16 ± 0.00 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| 10000 | 1.00 (1 seed) |")) << md;
}

// experiment.json without "contrasts" (every file before issue 14's second round) renders exactly
// as the table did before contrasts existed: the text below is what the code of 2c35e71 printed
// for these logs, byte for byte; to_json writes no "contrasts" key for it.
TEST(ReportTables, ExperimentWithoutContrastsRendersAsBefore) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  const Experiment e = read_experiment(t / "cstde/experiment.json", "cstde");
  EXPECT_TRUE(e.contrasts.empty());
  EXPECT_FALSE(e.to_json().contains("contrasts"));
  EXPECT_EQ(experiment_markdown(e),
            "| metric | baseline (baseline) | both | init_only |\n"
            "|---|---|---|---|\n"
            "| Brown bits/byte ↓ | 1.2000 ± 0.1000 (3 seeds) | 0.9500 ± 0.0500 (3 seeds); -20.8% better | 1.0000 (1 seed); "
            "-16.7% too few seeds to tell |\n"
            "| steps/s ↑ | 11.00 ± 1.00 (3 seeds) | 11.00 ± 0.50 (3 seeds); +0.0% no significant difference | not measured |\n"
            "\n"
            "Paired over seeds against baseline (difference variant − baseline, or ratio for geometric metrics, with its "
            "95 % t interval; p of the paired t test, and after Holm's correction over the 2 comparisons of this table):\n"
            "\n"
            "| variant | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
            "|---|---|---|---|---|---|---|\n"
            "| both | Brown bits/byte | 3 | -0.2500 [-0.3742, -0.1258] | 0.0131 | 0.0261 | better |\n"
            "| both | steps/s | 3 | +0.00 [-1.24, +1.24] | 1 | 1 | no significant difference |\n"
            "| init_only | Brown bits/byte | 1 | -0.1000 | n/a | n/a | too few seeds to tell |\n");
  const auto c = compare_all(e);
  EXPECT_TRUE(c.contrasts.empty());
  EXPECT_EQ(c.tested(), 2u);
  EXPECT_EQ(compare_to_baseline(e).size(), 3u);
}

// Contrasts between arms (issue 14, second round): the synthetic CSTDE logs plus an "attention" arm
// and two contrasts. By hand, with df 2 (two-sided p = 1 − |t|/√(t² + 2), t(0.975, 2) = 4.3027):
//   both − attention, Brown bits/byte: −0.10, −0.05, −0.05: mean −0.0667, sd 0.0289, se 0.0167,
//     t −4.00, p 0.0572, interval −0.0667 ± 0.0717 = [−0.1384, +0.0050];
//   both − attention, steps/s: +0.5, 0, −1.0: mean −0.17, se 0.441, p 0.742, [−2.06, +1.73];
//   both − init_only: one seed, −0.10, too few seeds (init_only has no steps/s: no row).
// The family is both sections' 6 tested comparisons: p 0.0131 (both − baseline, bits/byte),
// 0.0533 (attention − baseline, bits/byte: −0.10, −0.20, −0.25), 0.0572, 0.423, 0.742, 1, so Holm
// gives 6 × 0.0131 = 0.0784 (no longer "better", as it was in a family of 2) and max(5 × 0.0533,
// 4 × 0.0572) = 0.266 for both the attention rows with those p.
TEST(ReportTables, ContrastsBetweenArmsShareOneHolmFamilyWithTheBaseline) {
  TempDir t;
  json j = cstde_logs_with_attention_arm(t);
  // (json::array: a list of two-string lists would otherwise read as an object)
  const json contrasts = json::array({json::array({"both", "attention"}), json::array({"both", "init_only"})});
  j["contrasts"] = contrasts;
  test_report::write_text(t / "cstde/experiment.json", j.dump(2));

  const Experiment e = read_experiment(t / "cstde/experiment.json", "cstde");
  ASSERT_EQ(e.contrasts.size(), 2u);
  EXPECT_EQ(e.contrasts[0], std::make_pair(std::string("both"), std::string("attention")));
  const Comparisons c = compare_all(e);
  EXPECT_EQ(c.baseline.size(), 5u);
  ASSERT_EQ(c.contrasts.size(), 3u);
  EXPECT_EQ(c.tested(), 6u);
  const PairedDifference& d = c.contrasts[0].difference;
  EXPECT_EQ(c.contrasts[0].reference, "attention");
  EXPECT_EQ(d.n, 3);
  EXPECT_NEAR(d.mean, -0.2 / 3, 1e-12);
  EXPECT_NEAR(d.sd, 0.05 / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(d.p, 1 - 4 / std::sqrt(18.0), 1e-9);
  EXPECT_NEAR(d.hi - d.mean, 4.302652729749464 * 0.05 / 3, 1e-9);
  EXPECT_NEAR(c.baseline[0].difference.p_holm, 6 * c.baseline[0].difference.p, 1e-12);
  EXPECT_NEAR(d.p_holm, c.baseline[3].difference.p_holm, 1e-12);  // attention − baseline, 5 × 0.0533

  const std::string md = experiment_markdown(e);
  EXPECT_TRUE(contains(md, "after Holm's correction over the 6 comparisons of this table, the paired contrasts below "
                           "included):")) << md;
  EXPECT_TRUE(contains(md, "| both | Brown bits/byte | 3 | -0.2500 [-0.3742, -0.1258] | 0.0131 | 0.0784 | no significant "
                           "difference |")) << md;
  EXPECT_TRUE(contains(md, "\nPaired contrasts between arms (difference variant − reference paired by seed")) << md;
  EXPECT_TRUE(contains(md, "over the 6 comparisons of this table, the baseline comparisons above included):\n\n"
                           "| variant | reference | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
                           "|---|---|---|---|---|---|---|---|\n"
                           "| both | attention | Brown bits/byte | 3 | -0.0667 [-0.1384, +0.0050] | 0.0572 | 0.266 | no "
                           "significant difference |\n"
                           "| both | attention | steps/s | 3 | -0.17 [-2.06, +1.73] | 0.742 | 1 | no significant difference |\n"
                           "| both | init_only | Brown bits/byte | 1 | -0.1000 | n/a | n/a | too few seeds to tell |\n"))
      << md;
  EXPECT_LT(md.find("Paired over seeds against baseline"), md.find("Paired contrasts between arms")) << md;

  // The report's section: the same rows, both captions naming the family of 6.
  const std::string report = to_markdown(build_report({t.path()}));
  EXPECT_TRUE(contains(report, "| both | attention | Brown bits/byte | 3 | -0.0667 [-0.1384, +0.0050] | 0.0572 | 0.266 | no "
                               "significant difference |")) << report;
  EXPECT_TRUE(contains(report, "over the table's 6 comparisons (the paired contrasts between arms included)")) << report;
  EXPECT_TRUE(contains(report, "over the table's 6 comparisons (the comparisons with the baseline included)")) << report;

  // The contrasts survive to_json and a second read.
  EXPECT_EQ(e.to_json()["contrasts"], contrasts);
  test_report::write_text(t / "again.json", e.to_json().dump());
  EXPECT_EQ(read_experiment(t / "again.json", "cstde").contrasts, e.contrasts);
}

// Primary endpoints (issue 14, third round): the logs of the test above with Brown bits/byte
// declared primary. By hand (df 2, two-sided p = 1 − |t|/√(t² + 2)), the primary family is the 3
// tested bits/byte comparisons: both − baseline (t² 75, p = 1 − √(75/77) = 0.0131), attention −
// baseline (t² 121/7, p = 1 − 11/√135 = 0.0533) and the contrast both − attention (t² 16,
// p = 1 − 4/√18 = 0.0572); Holm: 3 × 0.0131 = 0.0392 (better: in the one family of 6 it was
// 0.0784, no significant difference), max(3 × 0.0131, 2 × 0.0533) = 0.107 for the other two. The
// secondary family is the 3 tested steps/s comparisons: p 1, 0.423 (attention − baseline, t = 1),
// 0.742: all 1 after Holm (3 × 0.423 capped at 1).
TEST(ReportTables, PrimaryMetricsHaveTheirOwnHolmFamily) {
  TempDir t;
  json j = cstde_logs_with_attention_arm(t);
  j["contrasts"] = json::array({json::array({"both", "attention"}), json::array({"both", "init_only"})});
  test_report::write_text(t / "one.json", j.dump(2));
  j["primary_metrics"] = {"brown_bpb"};
  test_report::write_text(t / "cstde/experiment.json", j.dump(2));

  // One family (no primary_metrics): both − baseline on bits/byte is not significant.
  const Experiment one = read_experiment(t / "one.json", "cstde");
  EXPECT_TRUE(one.primary_metrics.empty());
  EXPECT_FALSE(one.to_json().contains("primary_metrics"));
  const Comparisons c1 = compare_all(one);
  EXPECT_FALSE(c1.families);
  EXPECT_EQ(c1.baseline[0].verdict, Verdict::no_difference);

  const Experiment e = read_experiment(t / "cstde/experiment.json", "cstde");
  EXPECT_EQ(e.primary_metrics, std::vector<std::string>{"brown_bpb"});
  const Comparisons c = compare_all(e);
  EXPECT_TRUE(c.families);
  EXPECT_EQ(c.tested(), 6u);
  EXPECT_EQ(c.tested(true), 3u);
  EXPECT_EQ(c.tested(false), 3u);
  // baseline: both bpb, both steps/s, init_only bpb, attention bpb, attention steps/s
  ASSERT_EQ(c.baseline.size(), 5u);
  ASSERT_EQ(c.contrasts.size(), 3u);
  const double p_both = 1 - std::sqrt(75.0 / 77.0), p_attention = 1 - 11 / std::sqrt(135.0);
  EXPECT_TRUE(c.baseline[0].primary);
  EXPECT_NEAR(c.baseline[0].difference.p, p_both, 1e-9);
  EXPECT_NEAR(c.baseline[0].difference.p_holm, 3 * p_both, 1e-9);
  EXPECT_EQ(c.baseline[0].verdict, Verdict::better);
  EXPECT_NEAR(c.baseline[3].difference.p, p_attention, 1e-9);
  EXPECT_NEAR(c.baseline[3].difference.p_holm, 2 * p_attention, 1e-9);
  EXPECT_NEAR(c.contrasts[0].difference.p_holm, 2 * p_attention, 1e-9);
  EXPECT_TRUE(c.contrasts[0].primary);
  EXPECT_FALSE(c.baseline[1].primary);
  EXPECT_FALSE(c.contrasts[1].primary);  // both − attention, steps/s
  EXPECT_TRUE(c.contrasts[2].primary);   // both − init_only on bits/byte: primary, untested (1 seed)
  EXPECT_NEAR(c.baseline[4].difference.p, 1 - 1 / std::sqrt(3.0), 1e-9);
  for (const auto* x : {&c.baseline[1], &c.baseline[4], &c.contrasts[1]}) {
    EXPECT_EQ(x->difference.p_holm, 1.0);
    EXPECT_EQ(x->verdict, Verdict::no_difference);
  }

  const std::string md = experiment_markdown(e);
  EXPECT_TRUE(contains(md, "| Brown bits/byte ↓ (primary) |")) << md;
  EXPECT_TRUE(contains(md, "after Holm's correction over the 3 primary comparisons (metrics: Brown bits/byte)):\n\n"
                           "| variant | reference | metric | seeds | difference [95 % interval] | p | p (Holm) | verdict |\n"
                           "|---|---|---|---|---|---|---|---|\n"
                           "| both | baseline | Brown bits/byte | 3 | -0.2500 [-0.3742, -0.1258] | 0.0131 | 0.0392 | better |\n"
                           "| init_only | baseline | Brown bits/byte | 1 | -0.1000 | n/a | n/a | too few seeds to tell |\n"
                           "| attention | baseline | Brown bits/byte | 3 | -0.1833 [-0.3731, +0.0064] | 0.0533 | 0.107 | no "
                           "significant difference |\n"
                           "| both | attention | Brown bits/byte | 3 | -0.0667 [-0.1384, +0.0050] | 0.0572 | 0.107 | no "
                           "significant difference |\n"
                           "| both | init_only | Brown bits/byte | 1 | -0.1000 | n/a | n/a | too few seeds to tell |\n"))
      << md;
  EXPECT_TRUE(contains(md, "after Holm's correction over the 3 secondary comparisons (every other metric), the secondary "
                           "contrasts below included):\n\n| variant | metric |")) << md;
  EXPECT_TRUE(contains(md, "\nSecondary paired contrasts between arms (")) << md;
  EXPECT_TRUE(contains(md, "| both | attention | steps/s | 3 | -0.17 [-2.06, +1.73] | 0.742 | 1 | no significant difference |"))
      << md;
  EXPECT_LT(md.find("Primary comparisons"), md.find("Secondary comparisons")) << md;
  EXPECT_LT(md.find("Secondary comparisons"), md.find("Secondary paired contrasts")) << md;
  // The summary cell follows the primary family's verdict.
  EXPECT_TRUE(contains(md, "0.9500 ± 0.0500 (3 seeds); -20.8% better |")) << md;

  // The report's section: a primary table and a secondary one, each naming its family.
  const std::string report = to_markdown(build_report({t.path()}));
  EXPECT_TRUE(contains(report, "over the 3 primary comparisons (metrics: Brown bits/byte)")) << report;
  EXPECT_TRUE(contains(report, "over the 3 secondary comparisons")) << report;
  EXPECT_TRUE(contains(report, "| both | baseline | Brown bits/byte | 3 | -0.2500 [-0.3742, -0.1258] | 0.0131 | 0.0392 | better |"))
      << report;
  EXPECT_TRUE(contains(report, "Brown bits/byte (lower is better, primary)")) << report;

  // Carried by to_json and read back; an unknown or repeated key is refused, naming it.
  EXPECT_EQ(e.to_json()["primary_metrics"], json::array({"brown_bpb"}));
  test_report::write_text(t / "again.json", e.to_json().dump());
  EXPECT_EQ(read_experiment(t / "again.json", "cstde").primary_metrics, e.primary_metrics);
  for (const json& bad : {json::array({"brown_bpb", "val_loss"}), json::array({"brown_bpb", "brown_bpb"}), json("brown_bpb")}) {
    j["primary_metrics"] = bad;
    test_report::write_text(t / "bad.json", j.dump());
    const std::string err = error_of([&] { read_experiment(t / "bad.json", "cstde"); });
    EXPECT_TRUE(contains(err, "bad.json")) << err;
    if (bad.is_string()) EXPECT_TRUE(contains(err, "field 'primary_metrics' must be a list of metric keys")) << err;
    else if (bad[1] == "val_loss")
      EXPECT_TRUE(contains(err, "primary_metrics[1]: 'val_loss' is not a metric key of this experiment (known: brown_bpb, "
                                "steps_per_s)")) << err;
    else EXPECT_TRUE(contains(err, "primary_metrics[1]: 'brown_bpb' is listed twice")) << err;
  }
}

// A contrast's verdict reads variant − reference in the metric's direction: lower by 0.1 at every
// seed (sd 0, p 0) is better on a lower-is-better metric, and the reversed pair worse. No baseline
// is needed for contrasts.
TEST(ReportTables, ContrastVerdictReadsVariantMinusReference) {
  for (bool reversed : {false, true}) {
    Experiment e;
    e.path = "mem.json";
    e.name = "cstde";
    e.metrics = {Metric::from_json({{"key", "loss"}}, "mem")};
    for (int s = 1; s <= 3; ++s) {
      e.rows.push_back({"x", s, {{"loss", 1.0 + 0.1 * s}}});
      e.rows.push_back({"y", s, {{"loss", 1.1 + 0.1 * s}}});
    }
    e.contrasts = {reversed ? std::make_pair(std::string("y"), std::string("x")) : std::make_pair(std::string("x"), std::string("y"))};
    e.check();
    const auto c = compare_all(e);
    ASSERT_EQ(c.contrasts.size(), 1u);
    EXPECT_TRUE(c.baseline.empty());
    EXPECT_NEAR(c.contrasts[0].difference.mean, reversed ? 0.1 : -0.1, 1e-12);
    EXPECT_EQ(c.contrasts[0].verdict, reversed ? Verdict::worse : Verdict::better);
    const std::string md = experiment_markdown(e);
    EXPECT_FALSE(contains(md, "Paired over seeds against")) << md;
    EXPECT_TRUE(contains(md, reversed ? "| y | x | loss | 3 | +0.1000 [+0.1000, +0.1000] | < 0.0001 | < 0.0001 | worse |"
                                      : "| x | y | loss | 3 | -0.1000 [-0.1000, -0.1000] | < 0.0001 | < 0.0001 | better |"))
        << md;
  }
}

TEST(ReportTables, HcmaSection) {
  TempDir t;
  test_report::write_hcma_logs(t.path());
  Document d = build_report({t.path()});
  std::string md = to_markdown(d);
  EXPECT_TRUE(contains(md, "## HCMA experiment")) << md;
  // Differences +0.5, +0.3: t = 4 with 1 degree of freedom, p = 1 − (2/π) atan 4 = 0.156.
  EXPECT_TRUE(contains(md, "| after | frequent-token perplexity | 2 | +0.4000 [-0.8706, +1.6706] | 0.156 | 0.156 | "
                           "no significant difference |")) << md;
  // Recall@1, bucket "<10": 0.05 + 0.01·seed -> 0.06, 0.07.
  EXPECT_TRUE(contains(md, "| <10 | 0.0650 ± 0.0071 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "Loss increase under attack 'gradient_sign' by strength")) << md;
  EXPECT_TRUE(contains(md, "Top-1 flip rate under attack 'random' by strength")) << md;
  EXPECT_TRUE(contains(md, "| 512 | 3.5180 ± 0.0141 (2 seeds) |")) << md;  // 4 − 0.512 + 0.02·{1,2}
  // Movement of the aligned variant, 0.4 − 0.1·bucket + 0.01·{1,2}, buckets ordered by min_count
  // though the log lists the most frequent first; the original has no line.
  EXPECT_TRUE(contains(md, "**Relative movement mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ by calibration count**\n\n| bucket | after |\n"
                           "| --- | ---: |\n| 0 | 0.4150 ± 0.0071 (2 seeds) |\n| 1-9 | 0.3150 ± 0.0071 (2 seeds) |\n"
                           "| >=1000 | 0.2150 ± 0.0071 (2 seeds) |")) << md;
  // At random's largest strength 0.1: clean 3 + 0.1·v + 0.01·{1,2}; attacked = clean + 0.2·(0.9 for
  // "after") + 0.001·{1,2}: before 3.211, 3.222; after 3.291, 3.302.
  EXPECT_TRUE(contains(md, "**Clean and attacked loss under 'random' at strength 0.1, on the same windows (nats/token)**")) << md;
  EXPECT_TRUE(contains(md, "| before | 3.0150 ± 0.0071 (2 seeds) | 3.2165 ± 0.0078 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "| after | 3.1150 ± 0.0071 (2 seeds) | 3.2965 ± 0.0078 (2 seeds) |")) << md;
  EXPECT_TRUE(contains(md, "Clean and attacked loss under 'gradient_sign' at strength 0.1")) << md;
  int plots = 0;
  for (const auto& s : d.sections)
    for (const auto& b : s.blocks) plots += b.kind == Block::plot;
  EXPECT_EQ(plots, 6);  // recall, movement, attacks, attacked vs clean, position, PCA
}

// Issue 15: the recall plot's band is a 95 % interval of the mean. "before" has 3 seeds: <10 at
// 0.10, 0.12, 0.14 (mean 0.12, sd 0.02) gives 0.12 ∓ 4.302653 · 0.02/√3 = [0.0703, 0.1697];
// 10-99 at 0.30 every time (one measurement repeated) over 500, 500 and 400 targets gives Wilson's
// interval over 400, [0.2572, 0.3466], not the point. "after" has one seed: <10, 20 % of 100
// targets, gives Wilson's [0.1334, 0.2888]; 10-99 has no targets count, so no interval. The
// mean ± sd table stays as it was.
TEST(ReportTables, HcmaRecallBandIsAnIntervalOfTheMean) {
  TempDir t;
  test_report::write_hcma_logs(t.path());
  std::string r;
  auto line = [&](const char* variant, int seed, const char* bucket, int min_count, double recall, int targets) {
    json j{{"variant", variant}, {"seed", seed}, {"k", 1}, {"bucket", bucket}, {"min_count", min_count}, {"recall", recall}};
    if (targets > 0) j["targets"] = targets;
    r += j.dump() + "\n";
  };
  for (int s = 1; s <= 3; ++s) {
    line("before", s, "<10", 0, 0.08 + 0.02 * s, 50);
    line("before", s, "10-99", 10, 0.30, s < 3 ? 500 : 400);
  }
  line("after", 1, "<10", 0, 0.2, 100);
  line("after", 1, "10-99", 10, 0.5, 0);
  test_report::write_text(t / "hcma/rare_recall.jsonl", r);
  Document d = build_report({t.path()});
  const std::string md = to_markdown(d);
  EXPECT_TRUE(contains(md, "**Next-token recall@1 by target frequency**\n\n| bucket | before | after |\n| --- | ---: | ---: |\n"
                           "| <10 | 0.1200 ± 0.0200 (3 seeds) | 0.2000 (1 seed) |\n"
                           "| 10-99 | 0.3000 ± 0.0000 (3 seeds) | 0.5000 (1 seed) |\n")) << md;
  EXPECT_TRUE(contains(md, "**Next-token recall@1 by target frequency: 95 % interval of the mean (t over seeds; one seed, or "
                           "seeds all equal: Wilson over the targets)**\n\n| bucket | before | after |\n| --- | ---: | ---: |\n"
                           "| <10 | [0.0703, 0.1697] | [0.1334, 0.2888] |\n| 10-99 | [0.2572, 0.3466] | n/a |\n")) << md;
  EXPECT_TRUE(contains(md, "Recall: 1 point(s) of one measurement have no Wilson interval")) << md;
  EXPECT_TRUE(contains(md, "rare_recall.jsonl:8.")) << md;  // the line of "after" 10-99
  std::string caption;
  for (const auto& s : d.sections)
    for (const auto& b : s.blocks)
      if (b.kind == Block::plot && contains(b.fig.caption, "Rare-token recall")) caption = b.fig.caption;
  EXPECT_TRUE(contains(caption, "band: 95 % confidence interval of the mean, with 2 or more seeds the t interval over seeds "
                                "(mean ± t(0.975, n − 1) sd/√n), with one seed, or seeds that all give the same recall")) << caption;
  // Every other plot keeps mean ± sd.
  EXPECT_TRUE(contains(md, "Loss by position (" + t.path() + "/hcma/loss_by_position.jsonl); band: mean ± sd over seeds.")) << md;
}

// An experiment run before issue 15's second round has no movement.jsonl and only the loss
// increase in attack.jsonl: the rest of the section still renders, and says what is missing.
TEST(ReportTables, HcmaSectionFromLogsBeforeTheSecondRound) {
  TempDir t;
  test_report::write_hcma_logs(t.path());
  std::remove((t / "hcma/movement.jsonl").c_str());
  std::string old;
  for (const auto& line : read_lines(t / "hcma/attack.jsonl")) {
    if (line.empty()) continue;
    json j = json::parse(line);
    j.erase("clean_loss");
    j.erase("attacked_loss");
    old += j.dump() + "\n";
  }
  test_report::write_text(t / "hcma/attack.jsonl", old);
  Document d = build_report({t.path()});
  std::string md = to_markdown(d);
  EXPECT_TRUE(contains(md, "Omitted: no " + t.path() + "/hcma/movement.jsonl.")) << md;
  EXPECT_TRUE(contains(md, "Attacked against clean loss: omitted, " + t.path() + "/hcma/attack.jsonl has no clean_loss")) << md;
  EXPECT_TRUE(contains(md, "Loss increase under attack 'random' by strength")) << md;
  EXPECT_FALSE(contains(md, "Clean and attacked loss")) << md;
  int plots = 0;
  for (const auto& s : d.sections)
    for (const auto& b : s.blocks) plots += b.kind == Block::plot;
  EXPECT_EQ(plots, 4);  // recall, attacks, position, PCA
}

TEST(ReportTables, PartialExperimentLogsSayWhatIsMissing) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  std::remove((t / "cstde/sentence_lengths.jsonl").c_str());
  std::string md = to_markdown(build_report({t.path()}));
  EXPECT_TRUE(contains(md, "Omitted: no " + t.path() + "/cstde/sentence_lengths.jsonl.")) << md;
}

TEST(ReportTables, WritesBothFilesAtomically) {
  TempDir t;
  auto dirs = three_seeds_and_one(t);
  auto f = write_report(dirs, t / "out");
  EXPECT_EQ(f.html, t / "out/report.html");
  std::string html = read_file(f.html);
  EXPECT_TRUE(contains(html, "<svg"));
  EXPECT_FALSE(contains(html, "<script"));  // no scripts, nothing to fetch
  EXPECT_FALSE(contains(html, "http://www.w3.org/1999/xhtml\" src"));
  EXPECT_TRUE(contains(read_file(f.markdown), "# structlm report: 4 runs"));
  for (const auto& name : list_files(t / "out")) EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
}

// Panels in rows of `columns`, and a colour past the palette's end drawn with another point shape.
TEST(ReportPlots, RowsOfPanelsAndShapesPastThePalette) {
  Figure f;
  f.columns = 2;
  for (int i = 0; i < 3; ++i) {
    Panel p;
    Series se;
    se.style = Series::points;
    se.color = i == 2 ? 10 : i;
    se.x = {1, 2};
    se.y = {3, 4};
    p.series.push_back(se);
    f.panels.push_back(p);
  }
  f.panels[1].series[0].point_size = 0.8;
  const std::string script = gnuplot_script(f);
  EXPECT_TRUE(contains(script, "set multiplot layout 2,2\n")) << script;
  EXPECT_TRUE(contains(script, "with points pt 7 ps 0.35 lc rgb '#0072B2'")) << script;
  EXPECT_TRUE(contains(script, "with points pt 7 ps 0.8 lc rgb '#D55E00'")) << script;
  EXPECT_TRUE(contains(script, "with points pt 5 ps 0.35 lc rgb '#0072B2'")) << script;  // colour 10 = colour 0, squares
  f.columns = 0;
  EXPECT_TRUE(contains(gnuplot_script(f), "set multiplot layout 1,3\n"));
}

// A curve's own band (Curve::band) is what the plot draws, in the gnuplot data as x y lo hi; a
// NaN bound draws no band at that point (lo = hi = the mean); without one the band stays mean ± sd,
// and one seed draws none.
TEST(ReportPlots, CurveBandReplacesTheSpreadWhenSet) {
  Curve c;
  c.group = "v";
  c.x = {0, 1, 2};
  c.y = {summarize({0.10, 0.12, 0.14}), summarize({0.2}), summarize({0.5})};
  c.band = {mean_t_interval(c.y[0]), wilson_interval(0.2, 100), wilson_interval(0.5, 0)};
  Series se = curve_series(c, 0);
  ASSERT_EQ(se.lo.size(), 3u);
  EXPECT_NEAR(se.lo[0], 0.0703172, 1e-7);
  EXPECT_NEAR(se.hi[0], 0.1696828, 1e-7);
  EXPECT_NEAR(se.lo[1], 0.1333669, 1e-7);
  EXPECT_NEAR(se.hi[1], 0.2888292, 1e-7);
  EXPECT_EQ(se.lo[2], 0.5);
  EXPECT_EQ(se.hi[2], 0.5);
  Figure f;
  f.panels.push_back(Panel{});
  f.panels[0].series.push_back(se);
  const std::string script = gnuplot_script(f);
  EXPECT_TRUE(contains(script, "\n0 0.12 0.0703172458 0.169682754\n1 0.2 0.133366933 0.288829166\n2 0.5 0.5 0.5\n")) << script;
  EXPECT_TRUE(contains(script, "using 1:3:4 with filledcurves")) << script;
  Table tab = curve_band_table("c", "x", {c});
  EXPECT_EQ(tab.rows[0][1], "[0.0703, 0.1697]");
  EXPECT_EQ(tab.rows[2][1], "n/a");
  c.band.clear();
  se = curve_series(c, 0);
  EXPECT_NEAR(se.lo[0], 0.10, 1e-12);  // mean − sd
  EXPECT_NEAR(se.hi[0], 0.14, 1e-12);
  EXPECT_EQ(se.lo[1], 0.2);
  c.y = {summarize({0.1}), summarize({0.2}), summarize({0.5})};
  EXPECT_TRUE(curve_series(c, 0).lo.empty());  // one seed everywhere: no band
}
