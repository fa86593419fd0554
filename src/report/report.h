// `structlm report`: one self-contained HTML page (plots inline, no scripts, no network) and the
// same tables as Markdown, regenerated from the raw logs of one or more run directories.
#pragma once
#include <string>
#include <vector>

#include "report/document.h"
#include "report/run_dir.h"

namespace structlm::report {

struct ReportOptions {
  // config.json read as `structlm train` reads it (run_dir.h), so that runs whose configs differ
  // only in keys absent in one and at their default in another share a group; empty: configs are
  // compared as written. experiment/run_report.h passes train::RunConfig's.
  ConfigReader read_config;
  // Where the report goes, for the "Regenerate with" command (--out; left out when empty or the
  // first run directory, the default).
  std::string out_dir;
};

// Reads the run directories and builds the document (runs gnuplot for the plots).
Document build_report(const std::vector<std::string>& run_dirs, const ReportOptions& opts = {});

struct ReportFiles {
  std::string html, markdown;
};
// build_report, then writes OUT_DIR/report.html and OUT_DIR/report.md atomically.
ReportFiles write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                         const ConfigReader& read_config = {});

}  // namespace structlm::report
