#include "experiment/step_plan.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "formats/safetensors.h"
#include "train/checkpointing.h"

namespace structlm::experiment {

std::string shell_command(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + shell_quote(a);
  return s;
}

ChildUsage StepRecorder::train(const TrainRequest& r) {
  record(r.run_dir, train_command(ws_, exe_, r));
  return {};
}

ChildUsage StepRecorder::align(const AlignRequest& r, const std::string& options_file) {
  record(r.out, align_command(ws_, exe_, r, options_file));
  return {};
}

void StepRecorder::record(const std::string& what, std::vector<std::string> argv) {
  steps_.push_back({what, std::move(argv), stage_});
}

void StepRecorder::next_stage() {
  if (!steps_.empty() && steps_.back().stage == stage_) ++stage_;
}

std::string plan_text(const std::vector<PlannedStep>& steps) {
  std::string text;
  int stage = steps.empty() ? 1 : steps.front().stage;
  for (const auto& s : steps) {
    if (s.stage != stage)
      text += "# stage " + std::to_string(s.stage) + ": after every command above has finished\n";
    stage = s.stage;
    text += shell_command(s.argv) + "\n";
  }
  return text;
}

std::string write_plan(const std::string& out, const std::vector<PlannedStep>& steps) {
  const std::string text = plan_text(steps);
  const std::string path = out + "/plan.txt";
  write_file_atomic(path, text);
  if (steps.empty()) {
    std::fprintf(stderr, "experiment: every step is finished (%s is empty); --collect builds the tables\n", path.c_str());
    return text;
  }
  const int stages = steps.back().stage - steps.front().stage + 1;
  std::fprintf(stderr, "experiment: %zu steps to run in %s%s; then --collect builds the tables\n", steps.size(),
               path.c_str(),
               stages == 1 ? " (independent: any order, in parallel)"
                           : (" in " + std::to_string(stages) + " stages (a stage after every command above it)").c_str());
  return text;
}

void fail_unfinished(const std::string& out, const std::vector<PlannedStep>& steps) {
  std::string msg = std::to_string(steps.size()) + " step" + (steps.size() == 1 ? " is" : "s are") +
                    " not finished; run them (they are the commands of --plan, in this order), then --collect again:";
  for (const auto& s : steps) msg += "\n  " + s.what + ":\n    " + shell_command(s.argv);
  fail(out, msg);
}

namespace {

std::int64_t end_step(const train::TrainConfig& tc) {
  return tc.stop_at_step > 0 ? std::min(tc.stop_at_step, tc.max_steps) : tc.max_steps;
}

// The step of RUN_DIR's latest checkpoint; -1 when there is none. The metadata alone: the
// tensors are not read (the file is memory-mapped).
std::int64_t checkpoint_step(const std::string& run_dir) {
  const std::string latest = train::latest_checkpoint_path(run_dir);
  if (!file_exists(latest)) return -1;
  const formats::SafetensorsReader reader(latest);
  const auto it = reader.metadata().find("train_state");
  check(it != reader.metadata().end(), latest, "metadata 'train_state' is missing: not a training checkpoint");
  return train::TrainState::from_json(json::parse(it->second), latest).step;
}

}  // namespace

bool training_finished(const std::string& run_dir, const train::TrainConfig& tc) {
  const std::string path = train_usage_path(run_dir);
  if (!file_exists(path)) return false;
  const json j = load_json(path);
  std::int64_t step = -1;
  if (j.is_object() && j.contains("step"))
    read_field(j, "step", step, path);
  else
    step = checkpoint_step(run_dir);  // written by a structlm from before the key
  return step >= end_step(tc);
}

bool trained_model_present(const std::string& run_dir, const train::TrainConfig& tc) {
  return training_finished(run_dir, tc) && checkpoint_step(run_dir) >= end_step(tc);
}

ChildUsage recorded_train_usage(const std::string& run_dir) {
  const std::string path = train_usage_path(run_dir);
  check(file_exists(path), path,
        "missing: its train step did not record its cost (a structlm older than this file, or a step killed as it "
        "finished); delete the run directory and run its step again");
  const json j = load_json(path);
  ChildUsage u;
  u.exit_code = 0;
  read_field(j, "wall_s", u.wall_s, path);
  read_field(j, "peak_rss_mib", u.peak_rss_mib, path);
  return u;
}

}  // namespace structlm::experiment
