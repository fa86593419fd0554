// An experiment's table as one compact Markdown table for docs/results/: one row per metric, one
// column per variant, each cell mean ± sd (seeds) and, against the baseline, the verdict of
// stats.h (better / worse / no significant difference / too few seeds). No torch.
#pragma once
#include <string>

#include "report/experiment_logs.h"

namespace structlm::report {

std::string experiment_markdown(const Experiment& e);

}  // namespace structlm::report
