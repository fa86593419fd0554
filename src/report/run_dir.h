// One run directory as the report sees it: whatever raw logs it holds, validated, with errors that
// name the file and line. What is absent stays empty; sections check for what they need.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/json.h"
#include "report/metrics_log.h"

namespace structlm::report {

struct RunData {
  std::string dir;   // as given on the command line
  std::string name;  // short name for tables and legends (the directory's last component)
  json config;       // config.json, or null
  std::vector<MetricLine> metrics;  // metrics.jsonl, file order
  json eval;         // eval.json, or null
  json stages;       // stages.json, or null
  json run_info;     // run_info.json, or null

  bool has_config() const { return !config.is_null(); }
  long long seed() const;  // config train.seed, or -1
  // Runs that differ only in the seed share this key (see docs/REPORT.md).
  std::string group_key() const;
};

// Fails when `dir` is not a directory or holds none of the files the report reads.
RunData load_run(const std::string& dir);

}  // namespace structlm::report
