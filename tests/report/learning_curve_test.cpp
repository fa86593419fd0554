// report/learning_curve.h: tokens to reach a loss and the token multiplier, by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/io.h"
#include "report/learning_curve.h"
#include "support/temp_dir.h"

using namespace structlm;
using report::CurvePoint;

TEST(LearningCurve, TokensToReachInterpolateInLogTokens) {
  const std::vector<CurvePoint> curve = {{100, 6.0}, {1000, 5.0}, {10000, 4.0}, {100000, 3.5}};
  // 4.5 is halfway from 5.0 to 4.0: halfway in log between 1000 and 10000, sqrt(1e7).
  EXPECT_NEAR(*report::tokens_to_reach(curve, 4.5), std::sqrt(1e7), 1e-6);
  EXPECT_NEAR(*report::tokens_to_reach(curve, 5.0), 1000, 1e-9);    // reached exactly at a point
  EXPECT_NEAR(*report::tokens_to_reach(curve, 7.0), 100, 1e-9);     // already below at the first point
  EXPECT_FALSE(report::tokens_to_reach(curve, 3.4).has_value());    // never reached
  EXPECT_FALSE(report::tokens_to_reach({}, 3.4).has_value());
  // Not monotone: the first time it comes down counts.
  EXPECT_NEAR(*report::tokens_to_reach({{10, 5.0}, {100, 4.0}, {1000, 4.2}, {10000, 3.9}}, 4.1), std::pow(10, 1.9), 1e-9);
}

TEST(LearningCurve, TokenMultiplierAgainstTheBaseline) {
  const std::vector<CurvePoint> base = {{100, 6.0}, {1000, 5.0}, {10000, 4.0}, {100000, 3.5}};
  // A run that reaches 4.0 after 1000 tokens: the baseline needs 10000, so 10x.
  EXPECT_NEAR(*report::token_multiplier({{100, 5.5}, {1000, 4.0}}, base), 10.0, 1e-9);
  // The baseline against itself: 1.
  EXPECT_NEAR(*report::token_multiplier(base, base), 1.0, 1e-12);
  // A worse run: the baseline got there sooner, < 1.
  EXPECT_NEAR(*report::token_multiplier({{100000, 5.0}}, base), 0.01, 1e-12);
  EXPECT_FALSE(report::token_multiplier({{1000, 3.0}}, base).has_value());  // beyond the baseline's budget
  EXPECT_FALSE(report::token_multiplier({}, base).has_value());
}

TEST(LearningCurve, ReadFromATrainingLog) {
  test_util::TempDir tmp;
  const std::string path = tmp.path() + "/metrics.jsonl";
  write_file_atomic(path,
                    "{\"step\": 1, \"loss\": 7.0}\n"
                    "{\"step\": 1, \"val_loss\": 6.5}\n"
                    "{\"step\": 10, \"loss\": 5.0, \"val_loss\": 5.5}\n"
                    "{\"step\": 10, \"val_loss\": 5.4}\n"  // validated again after a resume
                    "{\"step\": 100, \"val_loss\": 4.5}\n");
  const auto c = report::validation_curve(path, 256);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].tokens, 256);
  EXPECT_EQ(c[1].tokens, 2560);
  EXPECT_EQ(c[1].loss, 5.4);
  EXPECT_EQ(c[2].tokens, 25600);
  write_file_atomic(path, "{\"step\": 1, \"val_los\": 6.5}\n");
  try {
    report::validation_curve(path, 256);
    FAIL() << "a misspelt field must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}
