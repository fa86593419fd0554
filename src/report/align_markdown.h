// `structlm align`'s report (report.json) as Markdown: the terms over the steps, the hierarchy's
// sizes, the second round's constraints (frozen rows, trust region), the rare-token collapse
// check, a matched shrink's bisection, and how far tokens moved by calibration frequency; each
// part only when its key is in the report. No torch here.
#pragma once
#include <string>

#include "core/json.h"

namespace structlm::report {

std::string align_report_markdown(const json& report);

}  // namespace structlm::report
