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

namespace structlm::dist {
class ProcessGroup;
}

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
//
// `group`: this process's data-parallel group (nullptr: one process). With W ranks, each step
// draws the B * A * W windows one process with grad_accum A * W would draw, rank r computes
// micro-batches [r A, (r + 1) A) (dropout keyed by the global micro-batch index), and gradients
// are averaged over the ranks before one identical update on every rank: W ranks of A
// micro-batches train what one process of A * W does, up to the order of summation. Rank 0's
// initial weights are broadcast; rank 0 alone writes the run directory (config, metrics,
// checkpoints; the checkpoint records the world size), validation batches are shared out, and
// a stop (Ctrl-C, time limit) on any rank stops every rank after the same step. CPU (Gloo) only.
TrainResult train(const RunConfig& cfg, const std::string& run_dir, bool resume, std::int64_t eot = -1,
                  dist::ProcessGroup* group = nullptr);

}  // namespace structlm::train
