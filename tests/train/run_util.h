// Helpers of the training-run tests (trainer_test.cpp, llama_train_test.cpp): a token shard to
// train on and a run's metrics log.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "data/shard.h"
#include "train/config.h"

namespace structlm::testing {

// Random tokens with a little structure (a token often repeats its predecessor plus one), so the
// loss has somewhere to go. Returns the shard's path, DIR/NAME.
inline std::string random_shard(const std::string& dir, const std::string& name, std::size_t n, std::uint32_t vocab,
                                std::uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<std::uint32_t> t(n);
  for (std::size_t i = 0; i < n; ++i)
    t[i] = (i > 0 && rng.uniform() < 0.5) ? (t[i - 1] + 1) % vocab : std::uint32_t(rng.below(vocab));
  std::string path = dir + "/" + name;
  data::write_shard(path, t, vocab);
  return path;
}

// The training settings of the tiny test runs (8 steps of 4 x 2 windows, evaluation every 2
// steps, checkpoints every 3, fp32 so the arithmetic is the same on every machine) and their
// data: random shards of a 64-token vocabulary in DIR. The caller sets the model.
inline void tiny_run_settings(train::RunConfig& c, const std::string& dir) {
  c.train.batch_size = 4;
  c.train.grad_accum = 2;
  c.train.max_steps = 8;
  c.train.warmup_steps = 2;
  c.train.lr = 3e-3;
  c.train.min_lr = 3e-4;
  c.train.grad_clip = 0.5;  // small enough to clip sometimes
  c.train.eval_every = 2;
  c.train.eval_batches = 2;
  c.train.ckpt_every = 3;
  c.train.log_every = 1;
  c.train.seed = 7;
  c.train.device = "cpu";
  c.train.threads = 1;
  c.train.precision = "fp32";  // bf16 is tested by name
  c.data.train_shards = {random_shard(dir, "train.bin", 5000, 64, 1)};
  c.data.val_shards = {random_shard(dir, "val.bin", 1000, 64, 2)};
}

// The records of RUN_DIR/metrics.jsonl.
inline std::vector<json> metrics(const std::string& run_dir) {
  std::vector<json> out;
  for (const auto& line : read_lines(run_dir + "/metrics.jsonl"))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// The fields of a metrics record that depend only on what was computed (not on wall time).
inline json computed_fields(const json& rec) {
  json out;
  for (const char* k : {"step", "loss", "lr", "grad_norm", "val_loss"})
    if (rec.contains(k)) out[k] = rec[k];
  return out;
}

}  // namespace structlm::testing
