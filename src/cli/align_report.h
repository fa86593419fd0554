// `structlm align`'s options and its report as Markdown: the terms over the steps, the
// hierarchy's sizes and how far tokens moved by calibration frequency.
#pragma once
#include <string>

#include "align/align.h"
#include "core/json.h"

namespace structlm::cli {

struct AlignCommand {
  std::string model, calib, out, tokenizer, report, data_dir = "data", device = "auto";
  int threads = 0;
  align::AlignOptions options;
};

void run_align(const AlignCommand& c);
std::string align_report_dir(const std::string& out);  // OUT's stem + ".align"
std::string align_report_markdown(const json& report);

}  // namespace structlm::cli
