// `structlm experiment cstde|hcma --plan` and `--collect` (issue 17): the steps an experiment
// has not finished, as independent shell commands another machine or a queue (Slurm, ...) can
// run, and the finished runs turned into the tables afterwards. The drivers call a StepRecorder
// where they would run a step: it runs nothing and records the command subprocess_runner would
// have run (train_command / align_command), so a planned step is exactly the driver's step.
#pragma once
#include <string>
#include <vector>

#include "experiment/steps.h"
#include "train/config.h"
#include "workspace/workspace.h"

namespace structlm::experiment {

// What a driver does with a step that is not finished.
enum class StepMode {
  run,      // run it through its StepRunner, measure it, write the tables
  plan,     // record its command, measure nothing, write OUT/plan.txt
  collect,  // record its command; measure the finished runs and write the tables, or fail
            // listing every unfinished step when there is one
};

struct PlannedStep {
  std::string what;                // the run directory or the aligned checkpoint the step makes
  std::vector<std::string> argv;   // the whole command line
  int stage = 1;                   // runs after every step of a lower stage has finished
};

std::string shell_command(const std::vector<std::string>& argv);

class StepRecorder : public StepRunner {
 public:
  StepRecorder(const workspace::Workspace& ws, std::string exe) : ws_(ws), exe_(std::move(exe)) {}
  // Record the step; the usage returned is empty, as nothing ran.
  ChildUsage train(const TrainRequest& r) override;
  ChildUsage align(const AlignRequest& r, const std::string& options_file) override;
  // Steps recorded from here on read what the steps recorded so far write (HCMA aligns the model
  // its train step makes): they go in the next stage. No-op while the current stage is empty.
  void next_stage();
  const std::vector<PlannedStep>& steps() const { return steps_; }

 private:
  void record(const std::string& what, std::vector<std::string> argv);
  workspace::Workspace ws_;
  std::string exe_;
  std::vector<PlannedStep> steps_;
  int stage_ = 1;
};

// plan.txt: one command per line in stage order. A plan of one stage holds nothing else (line N
// is step N: a job array can run `sed -n "${SLURM_ARRAY_TASK_ID}p" plan.txt | sh`); before each
// later stage comes the comment line "# stage N: after every command above has finished".
std::string plan_text(const std::vector<PlannedStep>& steps);
// Writes OUT/plan.txt atomically and says on stderr how many steps and stages it holds; returns
// its text.
std::string write_plan(const std::string& out, const std::vector<PlannedStep>& steps);
// --collect with unfinished steps: an error naming OUT and every unfinished step with its command.
[[noreturn]] void fail_unfinished(const std::string& out, const std::vector<PlannedStep>& steps);

// True when RUN_DIR's train step has ended at the step the run was to stop at (stop_at_step, else
// max_steps of `tc`), as the step recorded it on exit (step_usage.json's "step"; a file written
// before that key: the latest checkpoint's step). Until then false, also while the process is
// between its last checkpoint and that file, so another worker's --plan never measures a run
// whose cost is not yet written. Needs no checkpoint: a run restored from its kept files
// (scripts/keep_results.sh) counts as trained, which is all E1's learning-rate sweep asks of a run.
bool training_finished(const std::string& run_dir, const train::TrainConfig& tc);
// training_finished, and the model is there to measure: the latest checkpoint is at that step.
bool trained_model_present(const std::string& run_dir, const train::TrainConfig& tc);
// The cost the train step recorded itself (step_usage.json); error naming the file when absent.
ChildUsage recorded_train_usage(const std::string& run_dir);

}  // namespace structlm::experiment
