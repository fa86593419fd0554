#include "experiment/run_report.h"

#include "train/config.h"

namespace structlm::experiment {

json full_run_config(const json& config, const std::string& path) {
  const auto c = train::RunConfig::from_json(config, path);
  json j = c.to_json();
  j["model"]["cstde"] = c.model.cstde.to_json();
  return j;
}

report::ReportFiles write_run_report(const std::vector<std::string>& run_dirs, const std::string& out_dir) {
  return report::write_report(run_dirs, out_dir, full_run_config);
}

}  // namespace structlm::experiment
