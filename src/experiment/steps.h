// The two child steps an experiment runs, as plain requests, and who runs them. Production runs
// each step as a child process of the structlm binary (`structlm train` / `structlm align`), so
// its wall time and peak memory are its own; tests run the same requests in this process.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "hcma/align.h"
#include "core/subprocess.h"
#include "train/trainer.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

// `structlm train`: a config file (or RUN_DIR/config.json on resume), overrides, and optionally
// corpora that fill its data section with `tokenizer`'s shards.
struct TrainRequest {
  std::string config, run_dir, tokenizer;
  std::vector<std::string> overrides, corpora;
  bool resume = false;
  // Resume when RUN_DIR holds a checkpoint, else start: the same command line serves a first
  // run and a requeued one (Slurm --requeue, a queue's retry), which --plan relies on.
  bool auto_resume = false;
};
// Runs it: writes run_info.json, checks the model's vocabulary against the tokenizer's (a model
// smaller than its tokenizer is refused naming both; one the config leaves unset takes the
// tokenizer's), trains, and records what the step cost in RUN_DIR/step_usage.json
// (train_usage_path: wall time summed and peak memory the largest over a resumed run's attempts,
// and the step it ended at), so a run trained by a command of `experiment --plan` is measured
// like one the driver ran. Errors name the config.
// `group`: this process's data-parallel group (nullptr: one process; train/trainer.h). Rank 0
// prepares what every rank reads (corpora, shards, tokenizer) and writes run_info.json while
// the others wait, so they find the files made.
train::TrainResult run_training(const workspace::Workspace& ws, const TrainRequest& r,
                                dist::ProcessGroup* group = nullptr);

// `structlm align`: a new input table for a frozen model, written with its report.
struct AlignRequest {
  std::string model, calib, out, tokenizer, report, device = "auto";
  int threads = 0;
  std::int64_t context = 0;  // windows of the model's forward passes (0: its context length)
  hcma::AlignOptions options;
};
std::string align_report_dir(const std::string& out);  // OUT's stem + ".align"
// Writes OUT (only the input table differs from the model's) and REPORT/{log.jsonl, report.json,
// report.md}, report.json last (its presence marks a finished step); returns the report. The
// report records the step's own cost: step_wall_s (the whole call) and peak_rss_mib.
json run_alignment(const workspace::Workspace& ws, const AlignRequest& r);

// A step's arguments after the command name, from its request (flags: experiment/step_flags.h).
// The align options travel as `options_file`, written by the caller from r.options.
std::vector<std::string> train_args(const TrainRequest& r);
std::vector<std::string> align_args(const AlignRequest& r, const std::string& options_file);
// The whole command line of a step run by `exe` (structlm itself) in workspace `ws` (its root and
// data directory, absolute): what subprocess_runner runs and `experiment --plan` prints.
std::vector<std::string> train_command(const workspace::Workspace& ws, const std::string& exe, const TrainRequest& r);
std::vector<std::string> align_command(const workspace::Workspace& ws, const std::string& exe, const AlignRequest& r,
                                       const std::string& options_file);

// RUN_DIR/step_usage.json: {"wall_s", "peak_rss_mib"} of the train step's process, written when
// it finishes (by rank 0 of a data-parallel job: that rank's memory).
std::string train_usage_path(const std::string& run_dir);

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  virtual ChildUsage train(const TrainRequest& r) = 0;
  // `options_file`: r.options as written for the step (the child reads it back).
  virtual ChildUsage align(const AlignRequest& r, const std::string& options_file) = 0;
};

// Child processes of `exe` (structlm itself), with the workspace's root and data directory.
std::unique_ptr<StepRunner> subprocess_runner(const workspace::Workspace& ws, const std::string& exe);
// This process: usage.peak_rss_mib is the process's, not the step's; a failing step throws.
std::unique_ptr<StepRunner> in_process_runner(const workspace::Workspace& ws);

}  // namespace structlm::experiment
