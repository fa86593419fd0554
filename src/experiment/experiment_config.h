// An experiment config (`structlm experiment ...`): the whole file, its "experiment" section, and
// that section's non-empty list of non-negative integer "seeds", cut to the first `first_n` when
// first_n > 0 (--seeds N). Errors name the file and the field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace structlm::experiment {

struct ExperimentConfig {
  std::string path;
  json file, experiment;
  std::vector<std::int64_t> seeds;

  // experiment[key] as a non-empty list of strings, else an error naming the file and the key.
  std::vector<std::string> strings(const char* key) const;
};
ExperimentConfig load_experiment_config(const std::string& path, int first_n = 0);

}  // namespace structlm::experiment
