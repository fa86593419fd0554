// The CSTDE experiment's metric catalogue (report/metric.h: direction, unit, how seeds aggregate)
// and the function that computes its values from one trained run's typed result.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "experiment/cstde_result.h"
#include "report/metric.h"

namespace structlm::experiment {

// Every column of cstde/experiment.json, in table order: perplexity and bits/byte of each
// evaluation corpus (by name), then cost, structure and generation metrics.
std::vector<report::Metric> cstde_metrics(const std::vector<std::string>& eval_corpora);

// One row of experiment.json from a result.json; `base` is the same seed's baseline result.
json cstde_table_values(const CstdeRunResult& result, const CstdeRunResult& base, const std::vector<int>& reference_lengths);

// The mean loss of the loss-by-distance buckets whose distance is in [lo, hi],
// weighted by their tokens (NaN when none).
double loss_over(const std::vector<DistanceBucket>& by_distance, int lo, int hi);

}  // namespace structlm::experiment
