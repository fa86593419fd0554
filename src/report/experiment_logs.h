// Readers for the raw logs the CSTDE and HCMA experiments write (schemas: docs/REPORT.md), and the
// aggregation over seeds that every table and plot of those sections uses.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "report/stats.h"

namespace structlm::report {

// experiment.json: one row per (variant, seed) with that seed's value of each metric.
struct ExperimentMetric {
  std::string key, label;
  bool lower_is_better = true;
  int digits = 4;
};
struct ExperimentRow {
  std::string variant;
  long long seed = 0;
  json values;  // metric key -> number (absent or null: not measured for this seed)
};
struct Experiment {
  std::string path, name, description, baseline;  // baseline: a variant name, or ""
  std::vector<ExperimentMetric> metrics;
  std::vector<ExperimentRow> rows;
  std::vector<std::string> variants;  // in first-appearance order
  // The metric's per-seed values for one variant.
  Spread summary(const std::string& variant, const std::string& metric) const;
};
Experiment read_experiment(const std::string& path, const std::string& expected_name);
// experiment.json's "metrics" list, as read_experiment reads it back.
json metrics_json(const std::vector<ExperimentMetric>& metrics);

// A measured curve per group: JSONL lines {group keys..., "seed", x_key, y_key}.
struct SeriesPoint {
  std::string group;
  long long seed = 0;
  double x = 0, y = 0;
};
struct Curve {
  std::string group;
  std::vector<double> x;
  std::vector<Spread> y;  // over seeds, at each x
};
// group_keys are joined with " · " to name the group; a repeated (group, seed, x) is an error.
std::vector<SeriesPoint> read_series(const std::string& path, const std::vector<std::string>& group_keys,
                                     const std::string& x_key, const std::string& y_key);
std::vector<Curve> aggregate(const std::vector<SeriesPoint>& points);  // groups in file order, x ascending

// sentence_lengths.jsonl: the reference corpus's and each generation's sentence lengths.
struct LengthSample {
  std::string variant;  // "" for the reference
  std::string corpus;   // the reference's corpus name
  long long seed = 0;
  std::vector<double> lengths;
};
struct SentenceLengths {
  LengthSample reference;
  std::vector<LengthSample> generated;
};
SentenceLengths read_sentence_lengths(const std::string& path);
// 1-D Wasserstein distance between two empirical distributions (∫|F_a − F_b| dx).
double wasserstein1(std::vector<double> a, std::vector<double> b);

// embedding_sample.jsonl: tokens with their top-level cluster and embedding before/after.
struct EmbeddingSample {
  std::vector<std::string> tokens;
  std::vector<long long> clusters;
  std::vector<std::vector<double>> before, after;
};
EmbeddingSample read_embedding_sample(const std::string& path);

}  // namespace structlm::report
