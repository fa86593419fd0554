// A training run's settings, as plain data. A run directory holds config.json with
// {"model": ModelConfig, "train": TrainConfig, "data": DataConfig}; model.arch picks the GPT
// (default) or the Llama family's decoder (model/config.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/fields.h"
#include "core/json.h"
#include "model/config.h"

namespace structlm::train {

struct TrainConfig {
  std::int64_t batch_size = 16;     // sequences per micro-batch
  std::int64_t grad_accum = 1;      // micro-batches per optimizer step
  std::int64_t max_steps = 1000;
  // > 0: stop (with a checkpoint) after this many steps, as an interrupted run would; the
  // schedule still runs to max_steps, so `resume` later continues exactly. 0: run to max_steps.
  std::int64_t stop_at_step = 0;
  double lr = 1e-3, min_lr = 1e-4;  // cosine from lr to min_lr after warm-up
  std::int64_t warmup_steps = 100;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double grad_clip = 1.0;           // global norm; 0 disables
  std::int64_t eval_every = 200, eval_batches = 20;
  // > 0: also validate at this many log-spaced steps from 1 to max_steps (log_eval_steps()): a
  // learning curve over tokens with as many points in the first 1 % as in the last 90 %, what a
  // "how many tokens does the baseline need" comparison reads (issue 14, E1).
  std::int64_t eval_log_points = 0;
  std::int64_t ckpt_every = 200;    // and always at the end
  // Steps whose checkpoints are kept as their own files (checkpoints/keep_NNNNNNN.safetensors,
  // kept_checkpoint_path), whatever ckpt_every says: a checkpoint is written at each of them and
  // never replaced or removed, across resumes. Positive, increasing, each <= max_steps (issue 15:
  // the HCMA experiment aligns the base model at fractions of its budget). Empty: none.
  std::vector<std::int64_t> keep_steps;
  std::int64_t log_every = 10;
  double max_minutes = 0;           // > 0: stop (and checkpoint) once this wall time is used
  std::uint64_t seed = 1337;
  std::string device = "auto";
  int threads = 0;                  // 0: all available cores
  // auto, fp32 or bf16 (model/precision.h): bf16 computes in bf16 with fp32 weights and optimizer
  // state; auto picks bf16 where the device does it faster (CUDA, CPUs with AMX/AVX512-BF16).
  std::string precision = "auto";
  // Data-parallel runs: gradients travel in buckets of about this many MiB, each all-reduced as
  // soon as the backward pass has produced it (dist/grad_reducer.h); 0: one bucket after the
  // backward pass, nothing overlapped. 1 MiB: the best of 0, 1 and 4 measured with Gloo over
  // loopback (scripts/bench_dist.sh, docs/DISTRIBUTED.md).
  double bucket_mb = 1;

  static const FieldTable<TrainConfig>& fields();  // names, members, checks, help (core/fields.h)
  json to_json() const;
  static TrainConfig from_json(const json& j, const std::string& path);  // errors name field
  // The eval_log_points steps round(max_steps^(k / (n - 1))), k = 0..n-1, ascending, repeats
  // dropped (the first ones collide at small k); empty when eval_log_points is 0.
  std::vector<std::int64_t> log_eval_steps() const;
  // Error naming `path` and the field unless keep_steps is positive, increasing and <= max_steps.
  void check_keep_steps(const std::string& path) const;
};

struct DataConfig {
  std::vector<std::string> train_shards, val_shards;
  std::string tokenizer;  // directory with encoder.json + vocab.bpe
  static const FieldTable<DataConfig>& fields();
  json to_json() const;
  static DataConfig from_json(const json& j, const std::string& path);
};

struct RunConfig {
  model::ModelConfig model;
  TrainConfig train;
  DataConfig data;
  json to_json() const;
  static RunConfig from_json(const json& j, const std::string& path);  // errors name field
  static RunConfig load(const std::string& path);
  static std::string fields_help();  // every field of the three sections, for `train --help`
};

// Learning rate at `step` (0-based): linear warm-up to lr, then cosine down to min_lr at max_steps.
double lr_at(const TrainConfig& c, std::int64_t step);

}  // namespace structlm::train
