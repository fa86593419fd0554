// `structlm report`: one self-contained HTML page (plots inline, no scripts, no network) and the
// same tables as Markdown, regenerated from the raw logs of one or more run directories.
#pragma once
#include <string>
#include <vector>

#include "report/document.h"

namespace structlm::report {

// Reads the run directories and builds the document (runs gnuplot for the plots).
Document build_report(const std::vector<std::string>& run_dirs);

struct ReportFiles {
  std::string html, markdown;
};
// build_report, then writes OUT_DIR/report.html and OUT_DIR/report.md atomically.
ReportFiles write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir);

}  // namespace structlm::report
