// `structlm experiment cstde`: the comparison of docs/METHODS.md §1c. Trains the plain GPT and
// each CSTDE variant (init only, attention only, both, no carry) for every seed at equal token
// budget and parameter count (±2 %, checked), each training a `train` step (its own process in
// production, so its peak memory is its own); then measures every run and writes
//   OUT/runs/<variant>-seed<N>/     the training run (config.json, metrics.jsonl, checkpoints/,
//                                   eval.json) and result.json (everything measured on it)
//   OUT/cstde/experiment.json, loss_by_distance.jsonl, sentence_lengths.jsonl  (docs/REPORT.md)
//   OUT/cstde/table.md              the table: mean ± sd over seeds, change vs baseline, verdict
//   OUT/report.html, OUT/report.md  the run report over all of it
// Rerunning resumes: finished runs (result.json present) are kept, interrupted ones resume from
// their last checkpoint. --plan / --collect (experiment/step_plan.h) split this in two: the train
// steps as commands to run anywhere, then the measurements and tables from the finished runs.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "experiment/cstde_result.h"
#include "experiment/step_plan.h"
#include "experiment/steps.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

struct CstdeExperimentOptions {
  std::string config;  // configs/cstde.json (full) or configs/cstde_quick.json (--quick)
  std::string out;     // experiment directory
  std::vector<std::string> only_variants;  // empty: all in the config
  int seeds = 0;                           // > 0: use the first N seeds of the config
  // --plan --measure: also measure each finished run not yet measured (its RUN/result.json), so
  // results land run by run while the others still train (and survive the loss of the runs'
  // checkpoints); the table still waits for --collect, which reuses every result.json.
  bool measure_finished = false;
};

// Returns the table (Markdown) it wrote to OUT/cstde/table.md.
std::string run_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner);
// --plan: prepares what the steps read (corpora, tokenizer, shards, each run's
// requested_config.json), checks the parameter counts, writes OUT/plan.txt and returns the train
// steps not yet finished as commands of `exe` (structlm). Trains and measures nothing.
std::vector<PlannedStep> plan_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws,
                                               const std::string& exe);
// --collect: the table from finished runs only (measuring those not yet measured); runs no step.
// Any run whose training is not finished is an error listing every such run and its command.
std::string collect_cstde_experiment(const CstdeExperimentOptions& opts, const workspace::Workspace& ws,
                                     const std::string& exe);

// Distances to the link partner, bucketed so that long distances still hold enough tokens: a
// bucket is named by its first distance (1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33).
int distance_bucket_start(int k);
// ms per optimizer step from a training log: the median of its throughput lines, the first
// (start-up) dropped. Error naming the file when it has none.
double median_step_ms(const std::string& metrics_path, std::int64_t tokens_per_step);

}  // namespace structlm::experiment
