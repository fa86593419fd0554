// Mean ± spread, the verdict rule, Wasserstein-1 and PCA against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "report/experiment_logs.h"
#include "report/pca.h"
#include "report/stats.h"

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

TEST(ReportStats, ImprovementInsideTheSpreadIsNoDifference) {
  Spread base = summarize({1.10, 1.20, 1.30});  // [1.1, 1.3]
  EXPECT_EQ(compare(summarize({0.90, 0.95, 1.00}), base, true), Verdict::better);         // [0.9, 1.0]
  EXPECT_EQ(compare(summarize({1.15, 1.17, 1.19}), base, true), Verdict::no_difference);  // inside
  EXPECT_EQ(compare(summarize({1.40, 1.45, 1.50}), base, true), Verdict::worse);
  EXPECT_EQ(compare(summarize({1.40, 1.45, 1.50}), base, false), Verdict::better);
  EXPECT_EQ(compare(summarize({0.5}), base, true), Verdict::single_seed);
  EXPECT_STREQ(verdict_text(Verdict::no_difference), "no significant difference");
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
