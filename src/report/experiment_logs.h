// Readers for the raw logs the CSTDE and HCMA experiments write (schemas: docs/REPORT.md), and the
// aggregation over seeds that every table and plot of those sections uses.
#pragma once
#include <string>
#include <vector>

#include <map>
#include <optional>
#include <utility>

#include "core/json.h"
#include "report/metric.h"
#include "report/stats.h"

namespace structlm::report {

// experiment.json: the metric catalogue, and one row per (variant, seed) with that seed's value
// of each metric. The experiments build it, check() it, write to_json() and render their table
// from it in memory; the report reads the file back (read_experiment: the same checks).
struct ExperimentRow {
  std::string variant;
  long long seed = 0;
  json values;  // metric key -> number (absent or null: not measured for this seed)
};
struct Experiment {
  std::string path, name, description, baseline;  // baseline: a variant name, or ""
  std::vector<Metric> metrics;
  std::vector<ExperimentRow> rows;
  std::vector<std::string> variants;  // in first-appearance order (filled by check)
  // Paired contrasts between arms besides the baseline comparisons: (variant, reference), the
  // difference variant − reference (the CSTDE config's experiment.contrasts). Optional in the file
  // (written only when there are some); each names a variant with rows, the two distinct and not
  // the baseline (compared with every variant already), no pair twice (nor reversed).
  std::vector<std::pair<std::string, std::string>> contrasts;
  // The primary endpoints declared up front (the config's experiment.primary_metrics): metric keys
  // of `metrics`, none twice. Optional in the file (written only when there are some). Non-empty:
  // Holm's correction runs within two families, the comparisons of these metrics ("primary", the
  // baseline comparisons and the contrasts) and all the others ("secondary"); empty: one family.
  std::vector<std::string> primary_metrics;
  bool is_primary(const std::string& metric_key) const;
  // The metric's per-seed values for one variant, aggregated as its catalogue entry says.
  Spread summary(const std::string& variant, const std::string& metric) const;
  // The same values by seed (the pairing of comparisons).
  std::map<long long, double> seed_values(const std::string& variant, const std::string& metric) const;
  json to_json() const;  // the experiment.json format
  const Metric& metric(const std::string& key) const;  // an error naming `path` when not listed
  // Refuses (errors name `path`) repeated metrics, repeated (variant, seed), values of unlisted
  // metrics or of the wrong type, a geometric metric's value <= 0, a baseline without rows, a
  // contrast naming a variant without rows or the baseline, a variant with itself or a pair twice,
  // a primary metric that is not listed (check_primary_metrics) or listed twice; fills `variants`.
  void check();
};
// One variant against a reference on one metric, paired over seeds (stats.h).
struct Comparison {
  std::string variant;
  std::string reference;  // the baseline, or a contrast's reference
  const Metric* metric = nullptr;  // into Experiment::metrics
  PairedDifference difference;
  Verdict verdict = Verdict::single_seed;
  bool primary = false;  // of the primary family (its metric in Experiment::primary_metrics)
};
// The table's comparisons: every variant against the baseline on every metric both measured (in
// variant order, then catalogue order; empty without a baseline), then each of e.contrasts on
// every metric both measured (contrast order, then catalogue order). Holm's correction runs over
// every comparison with two or more paired seeds, so a table of many metrics and contrasts does
// not find differences by chance: as ONE family without e.primary_metrics; with them, within the
// primary family (the comparisons of a primary metric, baseline and contrasts alike) and,
// separately, within the secondary family (all the others).
struct Comparisons {
  std::vector<Comparison> baseline, contrasts;
  bool families = false;       // e.primary_metrics non-empty: two Holm families
  std::size_t tested() const;  // every tested comparison (the one family's size without families)
  std::size_t tested(bool primary) const;  // the primary (or secondary) family's size
};
Comparisons compare_all(const Experiment& e);
// compare_all(e).baseline: without contrasts, the baseline comparisons alone are the family.
std::vector<Comparison> compare_to_baseline(const Experiment& e);
// How many of them were tested (two or more paired seeds).
std::size_t tested_count(const std::vector<Comparison>& c);
// Each key names a metric of `metrics`, none twice; errors name `where` and the key, and list the
// known keys.
void check_primary_metrics(const std::vector<std::string>& keys, const std::vector<Metric>& metrics,
                           const std::string& where);

// Errors name `path`: unlisted metric keys, repeated (variant, seed), a geometric metric's value <= 0.
Experiment read_experiment(const std::string& path, const std::string& expected_name);

// The typed lines of the per-seed raw logs (schemas: docs/REPORT.md). The experiments write
// them with to_json, the report reads them with from_json (errors name `where`, "PATH:LINE").
struct RecallLine {  // hcma/rare_recall.jsonl
  std::string where;  // "PATH:LINE" when read from a file
  std::string variant;
  long long seed = 0;
  int k = 1;
  std::string bucket;
  long long min_count = 0;  // orders the buckets
  double recall = 0;
  long long targets = 0;
  json to_json() const;
  static RecallLine from_json(const json& j, const std::string& where);
};
struct AttackLine {  // hcma/attack.jsonl
  std::string where;
  std::string variant;
  long long seed = 0;
  std::string attack;
  double strength = 0, loss_increase = 0;
  std::optional<double> flip_rate;
  // The losses on the same windows, clean and attacked (optional: logs written before issue 15's
  // second round have only their difference).
  std::optional<double> clean_loss, attacked_loss;
  json to_json() const;
  static AttackLine from_json(const json& j, const std::string& where);
};
struct MovementLine {  // hcma/movement.jsonl: an aligned variant's rows, by calibration count
  std::string where;
  std::string variant;
  long long seed = 0;
  std::string bucket;
  long long min_count = 0;  // orders the buckets
  double relative_move = 0;  // mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖ over the bucket's tokens
  long long tokens = 0;      // informative
  json to_json() const;
  static MovementLine from_json(const json& j, const std::string& where);
};
// A mean loss at an integer position: hcma/loss_by_position.jsonl ("position") and
// cstde/loss_by_distance.jsonl ("distance"); `at_key` names the column.
struct LossLine {
  std::string where;
  std::string variant;
  long long seed = 0;
  long long at = 0;
  double loss = 0;
  long long tokens = 0;  // informative
  json to_json(const char* at_key) const;
  static LossLine from_json(const json& j, const char* at_key, const std::string& where);
};
std::vector<RecallLine> read_recall_log(const std::string& path);
std::vector<AttackLine> read_attack_log(const std::string& path);
std::vector<MovementLine> read_movement_log(const std::string& path);
std::vector<LossLine> read_loss_log(const std::string& path, const char* at_key);
// The lines as JSONL text, one to_json per line.
template <typename Line>
std::string jsonl_text(const std::vector<Line>& lines) {
  std::string out;
  for (const auto& l : lines) out += l.to_json().dump() + "\n";
  return out;
}
std::string jsonl_text(const std::vector<LossLine>& lines, const char* at_key);

// A measured curve per group: JSONL lines {group keys..., "seed", x_key, y_key}.
struct SeriesPoint {
  std::string group;
  long long seed = 0;
  double x = 0, y = 0;
  std::string where;  // the log line it came from, "PATH:LINE" (error messages)
};
struct Curve {
  std::string group;
  std::vector<double> x;
  std::vector<Spread> y;  // over seeds, at each x
  // Optional, one per x when set: the plot's band instead of y's [lo, hi] (mean ± sd), e.g. a
  // 95 % interval of the mean; a NaN bound leaves that point without a band. aggregate leaves it empty.
  std::vector<Interval> band;
};
// A repeated (group, seed, x) is an error naming its line and `x_label`; no points, one naming `path`.
void check_unique_points(const std::vector<SeriesPoint>& points, const std::string& path, const std::string& x_label);
std::vector<Curve> aggregate(const std::vector<SeriesPoint>& points);  // groups in file order, x ascending

// sentence_lengths.jsonl: the reference corpus's and each generation's sentence lengths.
struct LengthSample {
  std::string variant;  // "" for the reference
  std::string corpus;   // the reference's corpus name
  long long seed = 0;
  std::vector<double> lengths;
  json to_json() const;  // kind "reference" when variant is "", else "generated"
};
struct SentenceLengths {
  LengthSample reference;
  std::vector<LengthSample> generated;
};
SentenceLengths read_sentence_lengths(const std::string& path);

// embedding_sample.jsonl: tokens with their top-level cluster and embedding before/after.
struct EmbeddingSample {
  std::vector<std::string> tokens;
  std::vector<long long> clusters;
  std::vector<std::vector<double>> before, after;
};
EmbeddingSample read_embedding_sample(const std::string& path);

}  // namespace structlm::report
