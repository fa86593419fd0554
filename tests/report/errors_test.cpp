// Bad run directories get one clear error naming the file (and line).
#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "report/experiment_logs.h"
#include "report/report.h"
#include "synthetic_logs.h"

using namespace structlm;
using structlm::test_report::contains;
using structlm::test_report::write_text;
using structlm::test_util::error_of;
using structlm::test_util::TempDir;

TEST(ReportErrors, MissingOrEmptyRunDirectory) {
  TempDir t;
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "nope"}); }), t / "nope: not a run directory"));
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }), "none of config.json, metrics.jsonl"));
  EXPECT_TRUE(contains(error_of([&] { report::build_report({}); }), "no run directory"));
}

TEST(ReportErrors, MalformedMetricsNameFileAndLine) {
  TempDir t;
  test_report::write_train_run(t / "r", 2, 1, 4.0, 3.0, 3.1);
  write_text(t / "r/metrics.jsonl", "{\"step\": 10, \"loss\": 3.0}\n{\"step\": 20, \"loss\": \n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), t / "r/metrics.jsonl:2: invalid JSON"));
  write_text(t / "r/metrics.jsonl", "{\"step\": 10, \"loss\": \"high\"}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }),
                       t / "r/metrics.jsonl:1: field 'loss' must be a number"));
  write_text(t / "r/metrics.jsonl", "{\"loss\": 3.0}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), "metrics.jsonl:1: field 'step' missing"));
  write_text(t / "r/metrics.jsonl", "{\"step\": 20}\n[1]\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), "metrics.jsonl:2: expected a JSON object"));
  write_text(t / "r/metrics.jsonl", "{\"step\": 20}\n{\"step\": 10}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), "metrics.jsonl:2: step 10 comes after step 20"));
  // A number beyond double is nlohmann's out_of_range, not parse_error (found by fuzzing).
  write_text(t / "r/metrics.jsonl", "{\"step\": 10, \"loss\": 1e400}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), t / "r/metrics.jsonl:1: invalid JSON"));
  write_text(t / "r/metrics.jsonl", "{\"step\": 20}\n");
  write_text(t / "r/config.json", "{\"model\": ");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t / "r"}); }), t / "r/config.json"));
}

TEST(ReportErrors, MalformedExperimentLogs) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  write_text(t / "cstde/loss_by_distance.jsonl", "{\"variant\": \"a\", \"seed\": 1, \"distance\": 1}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }),
                       t / "cstde/loss_by_distance.jsonl:1: missing field 'loss'"));
  write_text(t / "cstde/loss_by_distance.jsonl",
             "{\"variant\": \"a\", \"seed\": 1, \"distance\": 1, \"loss\": 2}\n"
             "{\"variant\": \"a\", \"seed\": 1, \"distance\": 1, \"loss\": 3}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }), "loss_by_distance.jsonl:2: 'a' seed 1 distance 1 appears twice"));
  test_report::write_cstde_logs(t.path());
  write_text(t / "cstde/sentence_lengths.jsonl", "{\"kind\": \"generated\", \"variant\": \"a\", \"lengths\": [1]}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }), "sentence_lengths.jsonl: no line with \"kind\": \"reference\""));
  write_text(t / "cstde/experiment.json", "{\"experiment\": \"hcma\", \"metrics\": [{\"key\": \"x\"}], \"rows\": []}");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }), "experiment.json: field 'experiment' is 'hcma', expected 'cstde'"));
  write_text(t / "cstde/experiment.json",
             "{\"experiment\": \"cstde\", \"metrics\": [{\"key\": \"x\"}], \"rows\": [{\"variant\": \"a\", \"values\": {\"y\": 1}}]}");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }), "rows[0]: value 'y' is not a listed metric"));
  // contrasts (optional): pairs of variants with rows, distinct, not the baseline, each once (nor reversed).
  auto write_contrasts = [&](const std::string& contrasts) {
    write_text(t / "cstde/experiment.json",
               "{\"experiment\": \"cstde\", \"metrics\": [{\"key\": \"x\"}], \"rows\": [{\"variant\": \"a\", \"seed\": 1, "
               "\"values\": {\"x\": 1}}, {\"variant\": \"b\", \"seed\": 1, \"values\": {\"x\": 2}}], \"contrasts\": " +
                   contrasts + "}");
  };
  auto with_contrasts = [&](const std::string& contrasts) {
    write_contrasts(contrasts);
    return error_of([&] { report::read_experiment(t / "cstde/experiment.json", "cstde"); });
  };
  write_contrasts("[[\"a\", \"b\"]]");
  EXPECT_NO_THROW(report::read_experiment(t / "cstde/experiment.json", "cstde"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"c\"]]"), "experiment.json: contrasts[0]: variant 'c' has no rows"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"b\"], [\"b\", \"b\"]]"), "contrasts[1]: compares 'b' with itself"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"b\"], [\"b\", \"a\"]]"), "contrasts[1]: ['b', 'a'] is listed twice"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"b\"], [\"a\", \"b\"]]"), "contrasts[1]: ['a', 'b'] is listed twice"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"b\", \"c\"]]"), "contrasts[0]: expected a [variant, reference] pair"));
  EXPECT_TRUE(contains(with_contrasts("[[\"a\", \"b\"]], \"baseline\": \"b\""),
                       "contrasts[0]: names the baseline 'b', which every variant is compared with already"));
  EXPECT_TRUE(contains(with_contrasts("{\"a\": \"b\"}"), "field 'contrasts' must be a list of [variant, reference] pairs"));

  TempDir h;
  test_report::write_hcma_logs(h.path());
  write_text(h / "hcma/embedding_sample.jsonl",
             "{\"token\": \"a\", \"cluster\": 0, \"before\": [1, 2], \"after\": [1, 2]}\n"
             "{\"token\": \"b\", \"cluster\": 0, \"before\": [1, 2, 3], \"after\": [1, 2, 3]}\n");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({h.path()}); }),
                       h / "hcma/embedding_sample.jsonl:2: field 'before' has 3 numbers, earlier lines 2"));
}

// hcma/movement.jsonl: a malformed line, a missing field, a repeated bucket and a bucket label
// with two lower bounds each name the file and line.
TEST(ReportErrors, MalformedMovementLogNamesFileAndLine) {
  TempDir h;
  test_report::write_hcma_logs(h.path());
  const std::string path = h / "hcma/movement.jsonl";
  const std::string good = R"({"variant": "after", "seed": 1, "bucket": "0", "min_count": 0, "relative_move": 0.4})";
  auto error = [&](const std::string& second) {
    write_text(path, good + "\n" + second + "\n");
    return error_of([&] { report::build_report({h.path()}); });
  };
  EXPECT_TRUE(contains(error(R"({"variant": "after", "seed": 2, "bucket": "0", )"), path + ":2: invalid JSON"));
  EXPECT_TRUE(contains(error(R"({"variant": "after", "seed": 2, "bucket": "0", "min_count": 0})"),
                       path + ":2: missing field 'relative_move'"));
  EXPECT_TRUE(contains(error(R"({"variant": "after", "seed": 2, "bucket": "0", "min_count": 0, "relative_move": -1})"),
                       path + ":2: field 'relative_move' must be >= 0"));
  EXPECT_TRUE(contains(error(R"({"variant": "after", "seed": 2, "bucket": "0", "min_count": 0, "relative_mve": 1})"),
                       path + ":2: missing field 'relative_move'"));
  EXPECT_TRUE(contains(error(good), path + ":2: variant 'after' seed 1 bucket '0' appears twice"));
  EXPECT_TRUE(contains(error(R"({"variant": "after", "seed": 2, "bucket": "0", "min_count": 5, "relative_move": 1})"),
                       path + ":2: bucket '0' has min_count 5, earlier lines 0"));
}

TEST(ReportErrors, GeometricMetricWithANonPositiveValue) {
  TempDir t;
  test_report::write_cstde_logs(t.path());
  write_text(t / "cstde/experiment.json",
             R"({"experiment": "cstde", "metrics": [{"key": "ppl", "aggregation": "geometric"}],
                 "rows": [{"variant": "a", "seed": 1, "values": {"ppl": 0}}]})");
  EXPECT_TRUE(contains(error_of([&] { report::build_report({t.path()}); }),
                       t / "cstde/experiment.json: rows[0]: value 'ppl' is 0, but the metric aggregates geometrically"));
  // The same table with a positive value is tabulated as a geometric mean.
  write_text(t / "cstde/experiment.json",
             R"({"experiment": "cstde", "metrics": [{"key": "ppl", "aggregation": "geometric"}],
                 "rows": [{"variant": "a", "seed": 1, "values": {"ppl": 2}}, {"variant": "a", "seed": 2, "values": {"ppl": 8}}]})");
  EXPECT_NEAR(report::read_experiment(t / "cstde/experiment.json", "cstde").summary("a", "ppl").mean, 4.0, 1e-12);
}
