// The report's sections, each built from the runs' raw logs. Internal to src/report.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "report/document.h"
#include "report/experiment_logs.h"
#include "report/gnuplot.h"
#include "report/run_dir.h"

namespace structlm::report {

// Runs that differ only in their seed.
struct RunGroup {
  // In tables and plot legends: NAME where every run directory of the group is NAME-seedN (an
  // experiment's layout) and no other group has that NAME; else `settings` (or, past 100
  // characters, the run names); "all runs" for a single group.
  std::string label;
  // The config fields whose values differ between the groups (defaults filled in, RunData::
  // group_config), "model.cstde.attention=true, model.cstde.beta_init=0.5"; empty for a single group.
  std::string settings;
  std::vector<const RunData*> runs;
};
std::vector<RunGroup> group_runs(const std::vector<RunData>& runs);
// "NAME" for a run directory named NAME-seedN, else "".
std::string experiment_run_name(const std::string& run_name);

// Gives every plot in the page its own id prefix, in document order (deterministic output).
struct PlotIds {
  int next = 0;
  std::string operator()() { return "p" + std::to_string(++next) + "_"; }
};

// A curve's mean as a line and mean ± sd as a band (where there are ≥ 2 seeds), or the curve's
// own band when it has one (Curve::band; a point whose bound is NaN gets none).
Series curve_series(const Curve& c, int color, Series::Style style = Series::linespoints);
// Rows: x values; columns: one per curve, "mean ± sd (n seeds)".
Table curve_table(const std::string& caption, const std::string& x_label, const std::vector<Curve>& curves,
                  int digits = 4);
// The same rows and columns with each curve's own band as "[lo, hi]" ("n/a" where it has none).
Table curve_band_table(const std::string& caption, const std::string& x_label, const std::vector<Curve>& curves,
                       int digits = 4);
int color_of(const std::vector<std::string>& order, const std::string& name);

// A per-variant loss curve read from a LossLine log (experiment_logs.h; x: the `at_key` column):
// one plot with seed bands and the same numbers as a table. `panel` gives the title and axes.
void add_loss_curves(Section& s, const std::string& path, const char* at_key, Panel panel, const std::string& caption,
                     const std::vector<std::string>& order, PlotIds& ids);

// One curve per group (named by its label) from a metrics.jsonl field, mean over the group's runs
// that logged it; steps kept only where every such run logged it, so the mean never jumps where
// one seed's log stops early. Groups where no run logged it have no curve.
std::vector<Curve> metric_curves(const std::vector<RunGroup>& groups, double MetricLine::*field);

void add_training_sections(Document& doc, const std::vector<RunData>& runs, const std::vector<RunGroup>& groups,
                           PlotIds& ids);
// "Configurations": each group's label, runs and distinguishing settings, where some label is
// not its settings (a legend for NAME labels); nothing otherwise.
void add_configurations_section(Document& doc, const std::vector<RunGroup>& groups);
void add_metadata_section(Document& doc, const std::vector<RunData>& runs, const std::vector<RunGroup>& groups);
// One section per run directory holding DIR/cstde/experiment.json (resp. hcma/); a one-line note
// in doc.omitted when none does.
void add_cstde_sections(Document& doc, const std::vector<RunData>& runs, PlotIds& ids);
void add_hcma_sections(Document& doc, const std::vector<RunData>& runs, PlotIds& ids);
// The experiment table and the comparison with its baseline.
void add_experiment_tables(Section& s, const Experiment& e);

// One optional part of an experiment section: drawn from DIR/<experiment>/<file> when present.
struct ExperimentPart {
  const char* file;
  std::function<void(Section&, const std::string& path, const Experiment&)> add;
};
// For each run directory holding DIR/<name>/experiment.json: a section titled `title` with the
// experiment tables, then each part whose file is present, and a one-line note for each that is not.
void add_experiment_sections(Document& doc, const std::vector<RunData>& runs, const std::string& name,
                             const std::string& title, const std::vector<ExperimentPart>& parts);

}  // namespace structlm::report
