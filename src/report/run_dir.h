// One run directory as the report sees it: whatever raw logs it holds, validated, with errors that
// name the file and line. What is absent stays empty; sections check for what they need.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/json.h"
#include "report/metrics_log.h"

namespace structlm::report {

// Reads a run's config.json the way `structlm train` does, returning it with every default filled
// in, so that a key absent from one config and at its default in another compare equal. The report
// library links no torch and no trainer, so whoever has the typed reader passes it in
// (experiment/run_report.h: train::RunConfig's); errors name `path`.
using ConfigReader = std::function<json(const json& config, const std::string& path)>;

struct RunData {
  std::string dir;   // as given on the command line
  std::string name;  // short name for tables and legends (the directory's last component)
  json config;       // config.json, or null
  // `config` as the ConfigReader returned it (every default filled in), or `config` itself when
  // load_run got no reader or the reader refused it (config_note then says why).
  json full_config;
  std::string config_note;
  std::vector<MetricLine> metrics;  // metrics.jsonl, file order
  json eval;         // eval.json, or null
  json stages;       // stages.json, or null
  json run_info;     // run_info.json, or null

  bool has_config() const { return !config.is_null(); }
  long long seed() const;  // config train.seed, or -1
  // Runs that differ only in the seed share this key (see docs/REPORT.md): full_config less
  // train.seed, train.threads, train.max_minutes and data.tokenizer.
  std::string group_key() const;
  json group_config() const;  // the same, as JSON (null without a config)
};

// Fails when `dir` is not a directory or holds none of the files the report reads. With a reader,
// config.json is also read through it (full_config); a config it refuses (one written by another
// build, say) is compared as written, with config_note saying why.
RunData load_run(const std::string& dir, const ConfigReader& read_config = {});

}  // namespace structlm::report
