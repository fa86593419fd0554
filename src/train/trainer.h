// The training loop. A run directory holds:
//   config.json        the RunConfig (written at the start, checked on resume)
//   metrics.jsonl      one JSON object per logged step / evaluation
//   checkpoints/step_NNNNNNN.safetensors, and latest.safetensors (atomic copies)
// AdamW (two weight-decay groups), warm-up + cosine, clipping, accumulation, periodic validation,
// progress line with loss, tokens/s and ETA. Resume continues bit-for-bit like an uninterrupted
// run: batches and dropout masks are drawn from streams keyed by (seed, step), and the checkpoint
// holds the optimizer's moments and step.
#pragma once
#include <string>

#include "train/config.h"

namespace structlm::train {

struct TrainResult {
  std::int64_t steps = 0;
  double final_train_loss = 0, final_val_loss = 0;
  double tokens_per_s = 0, wall_s = 0;
  std::string last_checkpoint;
};

// `resume`: continue from RUN_DIR/checkpoints/latest.safetensors (error if absent or if config
// differs in anything but max_steps / max_minutes / eval/log cadence). `eot`: the tokenizer's
// <|endoftext|> id, where documents start (-1: the model's last id). Shards holding ids outside the
// model's vocabulary are an error naming the shard.
TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::int64_t eot = -1);

}  // namespace structlm::train
