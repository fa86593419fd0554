// `structlm align`'s report (report.json) as Markdown: the terms over the steps, the hierarchy's
// sizes and how far tokens moved by calibration frequency. No torch here.
#pragma once
#include <string>

#include "core/json.h"

namespace structlm::report {

std::string align_report_markdown(const json& report);

}  // namespace structlm::report
