// `structlm experiment hcma`: the comparison of docs/METHODS.md §2d. Trains one model (or takes
// --model), then for every seed applies HCMA and every baseline to it as `align` steps (each its
// own process in production, so its wall time and peak memory are its own), checks that only the
// input table changed, and measures the original model and every aligned one with the HCMA
// suite. Writes
//   OUT/base/                         the trained model's run (unless --model)
//   OUT/aligned/<method>-seed<N>.safetensors (+ .align/ reports)
//   OUT/variants/<variant>-seed<N>/result.json   everything measured
//   OUT/hcma/experiment.json, rare_recall.jsonl, attack.jsonl, movement.jsonl,
//            loss_by_position.jsonl, embedding_sample.jsonl (docs/REPORT.md), table.md
//   OUT/report.html, OUT/report.md
// Deterministic methods (abtt, whiten: closed form) are the same for every seed: they are aligned
// once and measured under each seed's probes. Rerunning resumes: finished steps are kept.
// --plan / --collect (experiment/step_plan.h) split this in two: the train and align steps as
// commands to run anywhere (the alignments a stage after the training they read), then the
// checks, measurements and tables from the finished steps.
#pragma once
#include <string>
#include <vector>

#include "experiment/step_plan.h"
#include "experiment/steps.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

struct HcmaExperimentOptions {
  std::string config;     // configs/hcma.json, or configs/hcma_quick.json with --quick
  std::string out;
  std::string model;      // an existing checkpoint or run directory instead of training one
  std::string tokenizer;  // with --model: its tokenizer when the checkpoint does not name it
  std::vector<std::string> only_methods;
  int seeds = 0;          // > 0: the first N seeds of the config
  int threads = 0;
};

// Returns the table (Markdown) it wrote to OUT/hcma/table.md.
std::string run_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws, StepRunner& runner);
// --plan: prepares what the steps read (tokenizer, shards, configs and align options), writes
// OUT/plan.txt and returns the steps not yet finished as commands of `exe` (structlm): the base
// model's training (stage 1) and the alignments (the next stage). Runs and measures nothing.
std::vector<PlannedStep> plan_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws,
                                              const std::string& exe);
// --collect: checks the finished alignments (frozen weights), measures every variant not yet
// measured and writes the tables; runs no step. Any unfinished step is an error listing every
// such step and its command.
std::string collect_hcma_experiment(const HcmaExperimentOptions& opts, const workspace::Workspace& ws,
                                    const std::string& exe);

}  // namespace structlm::experiment
