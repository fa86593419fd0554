// metrics.jsonl's one schema: what the trainer writes reads back field for field; absent fields
// stay absent (NaN), never 0.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/io.h"
#include "report/metrics_log.h"
#include "support/temp_dir.h"

using namespace structlm;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

TEST(MetricsLog, LinesRoundTripAndAbsentFieldsStayAbsent) {
  report::MetricLine a;
  a.step = 7;
  a.loss = 3.25;
  a.lr = 1e-3;
  a.grad_norm = 0.5;
  a.tokens_per_s = 1234;
  a.elapsed_s = 9.5;
  report::MetricLine e;  // an evaluation-only line
  e.step = 8;
  e.val_loss = 3.5;
  EXPECT_EQ(e.to_json(), json({{"step", 8}, {"val_loss", 3.5}}));

  TempDir t;
  write_file_atomic(t / "metrics.jsonl", a.to_json().dump() + "\n" + e.to_json().dump() + "\n");
  const auto lines = report::read_metrics(t / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].to_json(), a.to_json());
  EXPECT_EQ(lines[0].grad_norm, 0.5);
  EXPECT_TRUE(std::isnan(lines[0].val_loss));
  EXPECT_EQ(lines[1].step, 8);
  EXPECT_EQ(lines[1].val_loss, 3.5);
  EXPECT_TRUE(std::isnan(lines[1].loss));

  write_file_atomic(t / "bad.jsonl", "{\"step\": 1, \"val_los\": 3}\n");
  EXPECT_NE(error_of([&] { report::read_metrics(t / "bad.jsonl"); }).find("bad.jsonl:1: unknown field 'val_los'"),
            std::string::npos);
}
