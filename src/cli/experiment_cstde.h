// `structlm experiment cstde`: the comparison of docs/METHODS.md §1c. Trains the plain GPT and
// each CSTDE variant (init only, attention only, both, no carry) for every seed at equal token
// budget and parameter count (±2 %, checked), each training in its own process so its peak
// memory is its own; then measures every run and writes
//   OUT/runs/<variant>-seed<N>/     the training run (config.json, metrics.jsonl, checkpoints/,
//                                   eval.json) and result.json (everything measured on it)
//   OUT/cstde/experiment.json, loss_by_distance.jsonl, sentence_lengths.jsonl  (docs/REPORT.md)
//   OUT/cstde/table.md              the table: mean ± sd over seeds, change vs baseline, verdict
//   OUT/report.html, OUT/report.md  the run report over all of it
// Rerunning resumes: finished runs (result.json present) are kept, interrupted ones resume from
// their last checkpoint.
#pragma once
#include <string>

namespace structlm::cli {

struct CstdeExperimentOptions {
  std::string config;    // configs/cstde.json (full) or configs/cstde_quick.json (--quick)
  std::string out;       // experiment directory
  std::string data_dir = "data";
  std::vector<std::string> only_variants;  // empty: all in the config
  int seeds = 0;                           // > 0: use the first N seeds of the config
};

void run_cstde_experiment(const CstdeExperimentOptions& opts);

}  // namespace structlm::cli
