// The --precision option of the commands that run a model (eval, sample), and its announcement:
// the same switch as a run config's train.precision (model/precision.h).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "model/precision.h"

namespace structlm::cli {

void add_precision_option(CLI::App* cmd, std::string& precision);  // --precision auto|fp32|bf16
// Resolves the name on `device` and says on stderr what was picked and why.
model::PrecisionChoice announce_precision(const std::string& name, const torch::Device& device);

}  // namespace structlm::cli
