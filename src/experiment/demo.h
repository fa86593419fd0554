// `structlm demo`: the main job end to end on the bundled corpora, into one run directory:
// prepare splits -> train a BPE tokenizer -> token shards -> train a GPT (step count calibrated so
// training fits the time budget) -> evaluate on every corpus's test split against xz -9 ->
// sample -> summary.md. Re-running it resumes an interrupted run and skips finished stages.
#pragma once
#include <string>

#include "workspace/workspace.h"

namespace structlm::experiment {

struct DemoOptions {
  std::string out = "runs/demo";
  std::string config;    // empty: ROOT/configs/demo.json
  double minutes = -1;   // training budget; <= 0: the config's demo.train_minutes
};

// Returns the path of the summary it wrote (OUT/summary.md).
std::string run_demo(const DemoOptions& opts, const workspace::Workspace& ws);

}  // namespace structlm::experiment
