// `structlm report` with the config reader of `structlm train`: the report library links no
// trainer, so the commands that write reports (report, experiment, demo) pass it this one.
#pragma once
#include <string>
#include <vector>

#include "core/json.h"
#include "report/report.h"

namespace structlm::experiment {

// A run's config.json as `structlm train` reads it (train::RunConfig, every default filled in),
// written back as JSON with model.cstde spelled out even where CSTDE is off (to_json leaves the
// section out then), so the report labels a baseline "model.cstde.attention=false" rather than
// "(unset)". Errors, naming `path`, for a config this build would refuse.
json full_run_config(const json& config, const std::string& path);

// report::write_report(run_dirs, out_dir, full_run_config).
report::ReportFiles write_run_report(const std::vector<std::string>& run_dirs, const std::string& out_dir);

}  // namespace structlm::experiment
