// The HCMA experiment's metric catalogue (report/metric.h: direction, unit, how seeds aggregate)
// and the function that computes its values from one measured suite: the table's columns and
// the numbers in them are defined here and nowhere else.
#pragma once
#include <vector>

#include "core/json.h"
#include "experiment/hcma_result.h"
#include "report/metric.h"

namespace structlm::experiment {

// Every column of hcma/experiment.json, in table order.
const std::vector<report::Metric>& hcma_metrics();

// The catalogue's values for one suite, flat: metric key -> number (null where undefined):
// rare_recall10 / rare_recall1 (targets seen < 100 times), recall10_lt10, recall10_10_99,
// frequent_recall10 and frequent_ppl (>= 1000), ppl, the loss increase of four attacks,
// agreement at 0 / 4 attractors and on average, key-value recall, late_loss (second half of the
// context), stability, isotropy, WordNet hits and inference cost. The alignment's own cost
// (align_wall_s, align_peak_rss_mib) is measured by the experiment around the align step.
json hcma_summary(const HcmaSuiteResult& suite);

}  // namespace structlm::experiment
