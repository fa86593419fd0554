// OUT.align/report.md from report.json: the second round's keys (issue 15) appear with their
// numbers when present, and a report without them (a switch off, another method) renders as before.
#include <gtest/gtest.h>

#include "report/align_markdown.h"
#include "synthetic_logs.h"

using namespace structlm;
using structlm::test_report::contains;

namespace {

// What every method writes (src/hcma/align.cpp): method, options, wall time, movement.
json minimal_report(const std::string& method) {
  json r = {{"method", method}, {"wall_s", 1.25}, {"options", {{"freeze_min_count", 0}, {"trust_radius", 0.0}}}};
  r["movement"] = json::array({{{"bucket", "0"}, {"min_count", 0}, {"tokens", 3}, {"relative_move", 0.5}},
                               {{"bucket", ">=1000"}, {"min_count", 1000}, {"tokens", 2}, {"relative_move", nullptr}}});
  return r;
}

}  // namespace

TEST(AlignMarkdown, SecondRoundKeysAppearWithTheirNumbers) {
  json r = minimal_report("hcma");
  r["options"]["freeze_min_count"] = 1000;
  r["options"]["trust_radius"] = 0.5;
  r["frozen_rows"] = 36;
  r["trust_region"] = {{"rows_projected_last_step", 2444}};
  r["rare_collapse"] = {{"min_count", 5},
                        {"rare", {{"rows", 1428}, {"leaves", 115}, {"pairs", 55796}, {"before", 0.81398}, {"after", 0.77661}}},
                        {"frequent", {{"rows", 2668}, {"leaves", 363}, {"pairs", 39302}, {"before", 0.5}, {"after", 0.625}}}};
  const std::string md = report::align_report_markdown(r);
  EXPECT_TRUE(contains(md, "## Constraints")) << md;
  EXPECT_TRUE(contains(md, "- Frozen rows: 36 (tokens seen at least 1000 times in calibration)")) << md;
  EXPECT_TRUE(contains(md, "- Trust region (r_t = 0.500 ‖E⁰_t‖ κ/(n_t + κ)): 2444 rows projected back at the last step.")) << md;
  EXPECT_TRUE(contains(md, "## Rare-token collapse check")) << md;
  // after − before: 0.77661 − 0.81398 = −0.03737; 0.625 − 0.5 = +0.125.
  EXPECT_TRUE(contains(md, "| rare (n < 5) | 1428 | 115 | 55796 | 0.8140 | 0.7766 | -0.0374 |")) << md;
  EXPECT_TRUE(contains(md, "| frequent (n ≥ 5) | 2668 | 363 | 39302 | 0.5000 | 0.6250 | +0.1250 |")) << md;
  EXPECT_FALSE(contains(md, "## Matched shrink")) << md;
  EXPECT_TRUE(contains(md, "| 0 | 3 | 0.5000 |")) << md;
  EXPECT_TRUE(contains(md, "| >=1000 | 2 | – |")) << md;  // an empty bucket's null
}

TEST(AlignMarkdown, MatchedShrinkShowsItsBisection) {
  json r = minimal_report("shrink");
  r["match"] = {{"checkpoint", "aligned/hcma-fixed-seed1.safetensors"},
                {"shard", "data/brown/val.bin"},
                {"tokens", 100000},
                {"tol", 0.001},
                {"original_val_loss", 4.39657},
                {"matched_val_loss", 4.46501},
                {"target_increase", 0.06844},
                {"a", 0.33203125},
                {"shrink_val_loss", 4.46513},
                {"shrink_increase", 0.06856},
                {"reached", true},
                {"evaluations", json::array({json::array({0.0, 0.0}), json::array({1.0, 0.95302}), json::array({0.5, 0.18722})})}};
  std::string md = report::align_report_markdown(r);
  EXPECT_TRUE(contains(md, "## Matched shrink\n\na = 0.332031, chosen by bisection")) << md;
  EXPECT_TRUE(contains(md, "on `data/brown/val.bin` (first 100000 tokens) equals the increase of "
                           "`aligned/hcma-fixed-seed1.safetensors`, within 0.0010 nats: reached.")) << md;
  EXPECT_TRUE(contains(md, "| original | 4.3966 | – |")) << md;
  EXPECT_TRUE(contains(md, "| matched model | 4.4650 | +0.0684 |")) << md;
  EXPECT_TRUE(contains(md, "| shrink | 4.4651 | +0.0686 |")) << md;
  EXPECT_TRUE(contains(md, "| 0.000000 | +0.0000 |\n| 1.000000 | +0.9530 |\n| 0.500000 | +0.1872 |")) << md;
  // A bisection that ends outside the tolerance says so; 0 tokens means the whole shard.
  r["match"]["reached"] = false;
  r["match"]["tokens"] = 0;
  md = report::align_report_markdown(r);
  EXPECT_TRUE(contains(md, "(all tokens)")) << md;
  EXPECT_TRUE(contains(md, "nats: **not within tolerance**")) << md;
  EXPECT_FALSE(contains(md, "## Rare-token collapse check")) << md;
}

TEST(AlignMarkdown, WithoutTheKeysNoSectionAppears) {
  // abtt (no hierarchy, no loop) and hcma with every switch off: frozen_rows is 0, no trust_region.
  for (json r : {minimal_report("abtt"), minimal_report("hcma")}) {
    if (r["method"] == "hcma") r["frozen_rows"] = 0;
    const std::string md = report::align_report_markdown(r);
    EXPECT_TRUE(contains(md, "# Alignment: " + r["method"].get<std::string>())) << md;
    EXPECT_TRUE(contains(md, "## How far tokens moved")) << md;
    for (const char* absent : {"## Constraints", "Frozen rows", "Trust region", "## Rare-token collapse check", "## Matched shrink"})
      EXPECT_FALSE(contains(md, absent)) << absent << "\n" << md;
  }
}
