#include "cli/precision_flag.h"

#include <cstdio>

namespace structlm::cli {

void add_precision_option(CLI::App* cmd, std::string& precision) {
  cmd->add_option("--precision", precision,
                  "auto, fp32 or bf16: bf16 runs the matrix products in bf16 (weights stay fp32); auto picks bf16 "
                  "where it is faster (CUDA, CPUs with AMX-BF16 or AVX512-BF16)")
      ->check(CLI::IsMember({"auto", "fp32", "bf16"}))
      ->capture_default_str();
}

model::PrecisionChoice announce_precision(const std::string& name, const torch::Device& device) {
  const auto choice = model::resolve_precision(name, device);
  std::fprintf(stderr, "precision: %s (%s)\n", choice.name(), choice.why.c_str());
  return choice;
}

}  // namespace structlm::cli
