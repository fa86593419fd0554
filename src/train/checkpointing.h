// The run directory's checkpoints: names, writing (step file + atomic "latest" copy), and the
// resume check that a run continues with the settings it was started with.
#pragma once
#include <cstdint>
#include <string>

#include "core/json.h"
#include "model/gpt.h"
#include "model/llama.h"
#include "train/config.h"
#include "train/optimizer.h"

namespace structlm::train {

std::string checkpoint_dir(const std::string& run_dir);
std::string step_checkpoint_path(const std::string& run_dir, std::int64_t step);  // step_0000123.safetensors
std::string latest_checkpoint_path(const std::string& run_dir);
// A train.keep_steps checkpoint: checkpoints/keep_0000123.safetensors, a hard link to (or, where
// the file system has none, an atomic copy of) the step file, never replaced once written.
std::string kept_checkpoint_path(const std::string& run_dir, std::int64_t step);

// What a checkpoint records about the run besides tensors ("train_state" in its metadata).
struct TrainState {
  std::int64_t step = 0;  // optimizer steps completed
  std::int64_t tokens_seen = 0;
  double train_loss = 0, val_loss = 0;  // last measured (val_loss 0: never evaluated)
  int world_size = 1;  // data-parallel ranks that trained it (absent in older checkpoints: 1)
  json to_json() const;
  static TrainState from_json(const json& j, const std::string& path);
};

// Writes checkpoints/step_NNNNNNN.safetensors, then copies it atomically to latest.safetensors
// (and, when the step is one of cfg.train.keep_steps and it has none yet, to its kept file).
// Returns the step file's path.
std::string write_run_checkpoint(const std::string& run_dir, model::GPT& model, const AdamW& opt,
                                 const RunConfig& cfg, const TrainState& state);
// A Llama-family run's (metadata arch "llama", config its Hugging Face config.json).
std::string write_run_checkpoint(const std::string& run_dir, model::LlamaForCausalLM& model, const AdamW& opt,
                                 const RunConfig& cfg, const TrainState& state);

// Error naming `path` and every differing field if `saved` and `now` differ in anything a
// resumed run may not change (allowed: max_steps, stop_at_step, max_minutes, eval/log/checkpoint
// cadence, keep_steps, eval_batches, device and threads; grad_accum too when grad_accum x ranks stays the
// same, as each step then sees the same windows).
void check_resume_config(const RunConfig& saved, const RunConfig& now, const std::string& path, int saved_world = 1,
                         int now_world = 1);

}  // namespace structlm::train
