#include "experiment/experiment_config.h"

#include "core/error.h"

namespace structlm::experiment {

std::vector<std::string> ExperimentConfig::strings(const char* key) const {
  const std::string field = std::string("experiment field '") + key + "'";
  check(experiment.contains(key) && experiment[key].is_array() && !experiment[key].empty(), path,
        field + " must be a non-empty list");
  try {
    return experiment[key].get<std::vector<std::string>>();
  } catch (const json::exception&) {
    fail(path, field + " must be a list of strings");
  }
}

ExperimentConfig load_experiment_config(const std::string& path, int first_n) {
  ExperimentConfig c;
  c.path = path;
  c.file = load_json(path);
  check(c.file.is_object() && c.file.contains("experiment") && c.file["experiment"].is_object(), path,
        "missing the 'experiment' section");
  c.experiment = c.file["experiment"];
  const json& seeds = c.experiment.contains("seeds") ? c.experiment["seeds"] : json();
  check(seeds.is_array() && !seeds.empty(), path, "experiment field 'seeds' must be a non-empty list of integers");
  for (const auto& v : seeds) {
    check(v.is_number_unsigned(), path, "experiment field 'seeds' must hold non-negative integers");
    c.seeds.push_back(v.get<std::int64_t>());
  }
  if (first_n > 0) {
    check(std::size_t(first_n) <= c.seeds.size(), path,
          "--seeds " + std::to_string(first_n) + " but the config lists " + std::to_string(c.seeds.size()));
    c.seeds.resize(std::size_t(first_n));
  }
  return c;
}

}  // namespace structlm::experiment
