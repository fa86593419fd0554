// The metric catalogue's entry: what a table column measures and how its per-seed values become
// one cell. The experiments declare their catalogues (src/experiment/*_metrics.cpp) and write them
// into experiment.json; the report and the Markdown tables read them back from there, so both see
// the same direction, unit and aggregation. No torch.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "report/stats.h"

namespace structlm::report {

// How the seeds' values of one metric aggregate into a cell.
//   mean       arithmetic mean ± sample sd (losses, accuracies, times)
//   geometric  geometric mean ×/÷ geometric sd: for quantities that multiply (perplexities and
//              ratios to a baseline), where the arithmetic mean is biased upwards and a ratio r
//              and its reciprocal 1/r would not average to 1. Needs every value > 0.
enum class Aggregation { mean, geometric };
const char* aggregation_name(Aggregation a);

struct Metric {
  std::string key;    // the name in experiment.json's rows
  std::string label;  // the table's words for it
  std::string unit;   // "nats/token", "ms", "MiB", "x baseline", ...; "" for a plain number
  bool lower_is_better = true;
  Aggregation aggregation = Aggregation::mean;
  int digits = 4;     // after the point

  std::string heading() const;  // "label (unit)", or the label alone when there is no unit
  json to_json() const;
  // Optional fields take the defaults above (label: the key); bad types are errors naming `where`.
  static Metric from_json(const json& j, const std::string& where);
};

json metrics_json(const std::vector<Metric>& metrics);
// The seeds' values of a metric, aggregated as the metric says (values must suit it: > 0 for
// geometric; read_experiment checks that).
Spread aggregate(const std::vector<double>& values, Aggregation a);

}  // namespace structlm::report
