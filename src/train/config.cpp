#include "train/config.h"

#include <cmath>

namespace structlm::train {

// ---- TrainConfig -----------------------------------------------------------------------------

json TrainConfig::to_json() const {
  return json{{"batch_size", batch_size},
              {"grad_accum", grad_accum},
              {"max_steps", max_steps},
              {"stop_at_step", stop_at_step},
              {"lr", lr},
              {"min_lr", min_lr},
              {"warmup_steps", warmup_steps},
              {"weight_decay", weight_decay},
              {"beta1", beta1},
              {"beta2", beta2},
              {"eps", eps},
              {"grad_clip", grad_clip},
              {"eval_every", eval_every},
              {"eval_batches", eval_batches},
              {"ckpt_every", ckpt_every},
              {"log_every", log_every},
              {"max_minutes", max_minutes},
              {"seed", seed},
              {"device", device},
              {"threads", threads}};
}

TrainConfig TrainConfig::from_json(const json& j, const std::string& path) {
  check_known_keys(j,
                   {"batch_size", "grad_accum", "max_steps", "stop_at_step", "lr", "min_lr", "warmup_steps",
                    "weight_decay", "beta1", "beta2", "eps", "grad_clip", "eval_every", "eval_batches",
                    "ckpt_every", "log_every", "max_minutes", "seed", "device", "threads"},
                   path);
  TrainConfig c;
  read_field(j, "batch_size", c.batch_size, path);
  read_field(j, "grad_accum", c.grad_accum, path);
  read_field(j, "max_steps", c.max_steps, path);
  read_field(j, "stop_at_step", c.stop_at_step, path);
  read_field(j, "lr", c.lr, path);
  read_field(j, "min_lr", c.min_lr, path);
  read_field(j, "warmup_steps", c.warmup_steps, path);
  read_field(j, "weight_decay", c.weight_decay, path);
  read_field(j, "beta1", c.beta1, path);
  read_field(j, "beta2", c.beta2, path);
  read_field(j, "eps", c.eps, path);
  read_field(j, "grad_clip", c.grad_clip, path);
  read_field(j, "eval_every", c.eval_every, path);
  read_field(j, "eval_batches", c.eval_batches, path);
  read_field(j, "ckpt_every", c.ckpt_every, path);
  read_field(j, "log_every", c.log_every, path);
  read_field(j, "max_minutes", c.max_minutes, path);
  // nlohmann converts -1 to 2^64 - 1 without a word; a negative seed is a typo, not a seed.
  if (j.contains("seed") && j["seed"].is_number_integer() && !j["seed"].is_number_unsigned())
    fail(path, "train field 'seed' must be a non-negative integer");
  if (j.contains("seed") && j["seed"].is_number_float())
    fail(path, "train field 'seed' has the wrong type (number with a fraction, expected an integer)");
  read_field(j, "seed", c.seed, path);
  read_field(j, "device", c.device, path);
  read_field(j, "threads", c.threads, path);

  auto need = [&](bool ok, const char* field, const std::string& what) {
    check(ok, path, std::string("train field '") + field + "' " + what);
  };
  auto finite = [](double v) { return std::isfinite(v); };
  need(c.batch_size > 0, "batch_size", "must be > 0");
  need(c.grad_accum > 0, "grad_accum", "must be > 0");
  need(c.max_steps > 0, "max_steps", "must be > 0");
  need(c.stop_at_step >= 0, "stop_at_step", "must be >= 0 (0: run to max_steps)");
  need(finite(c.lr) && c.lr > 0, "lr", "must be a number > 0");
  need(finite(c.min_lr) && c.min_lr >= 0 && c.min_lr <= c.lr, "min_lr", "must be in [0, lr]");
  need(c.warmup_steps >= 0, "warmup_steps", "must be >= 0");
  need(finite(c.weight_decay) && c.weight_decay >= 0, "weight_decay", "must be >= 0");
  need(c.beta1 >= 0 && c.beta1 < 1, "beta1", "must be in [0, 1)");
  need(c.beta2 >= 0 && c.beta2 < 1, "beta2", "must be in [0, 1)");
  need(finite(c.eps) && c.eps > 0, "eps", "must be > 0");
  need(finite(c.grad_clip) && c.grad_clip >= 0, "grad_clip", "must be >= 0 (0 disables clipping)");
  need(c.eval_every >= 0, "eval_every", "must be >= 0 (0: only at the end)");
  need(c.eval_batches > 0, "eval_batches", "must be > 0");
  need(c.ckpt_every >= 0, "ckpt_every", "must be >= 0 (0: only at the end)");
  need(c.log_every > 0, "log_every", "must be > 0");
  need(finite(c.max_minutes) && c.max_minutes >= 0, "max_minutes", "must be >= 0 (0: no limit)");
  need(c.threads >= 0, "threads", "must be >= 0 (0: all available cores)");
  need(!c.device.empty(), "device", "must not be empty (auto, cpu, cuda or cuda:N)");
  return c;
}

// ---- DataConfig ------------------------------------------------------------------------------

json DataConfig::to_json() const {
  return json{{"train_shards", train_shards}, {"val_shards", val_shards}, {"tokenizer", tokenizer}};
}

DataConfig DataConfig::from_json(const json& j, const std::string& path) {
  check_known_keys(j, {"train_shards", "val_shards", "tokenizer"}, path);
  DataConfig c;
  // A single string is a common slip for a one-shard list; say so instead of "wrong type".
  for (const char* key : {"train_shards", "val_shards"})
    if (j.contains(key) && j[key].is_string())
      fail(path, std::string("data field '") + key + "' must be a list of paths, got a string");
  read_field(j, "train_shards", c.train_shards, path);
  read_field(j, "val_shards", c.val_shards, path);
  read_field(j, "tokenizer", c.tokenizer, path);
  for (const auto& p : c.train_shards) check(!p.empty(), path, "data field 'train_shards' holds an empty path");
  for (const auto& p : c.val_shards) check(!p.empty(), path, "data field 'val_shards' holds an empty path");
  return c;
}

// ---- RunConfig -------------------------------------------------------------------------------

json RunConfig::to_json() const { return json{{"model", model.to_json()}, {"train", train.to_json()}, {"data", data.to_json()}}; }

RunConfig RunConfig::from_json(const json& j, const std::string& path) {
  check_known_keys(j, {"model", "train", "data"}, path);
  RunConfig c;
  auto section = [&](const char* key) -> json {
    if (!j.contains(key) || j[key].is_null()) return json::object();
    if (!j[key].is_object()) fail(path, std::string("field '") + key + "' must be an object");
    return j[key];
  };
  c.model = model::GPTConfig::from_json(section("model"), path);
  c.train = TrainConfig::from_json(section("train"), path);
  c.data = DataConfig::from_json(section("data"), path);
  return c;
}

RunConfig RunConfig::load(const std::string& path) { return from_json(load_json(path), path); }

// ---- schedule --------------------------------------------------------------------------------

double lr_at(const TrainConfig& c, std::int64_t step) {
  // Warm-up: step s uses lr * (s + 1) / warmup, so the first step already learns something and
  // step warmup - 1 reaches the full rate.
  if (step < c.warmup_steps) return c.lr * double(step + 1) / double(c.warmup_steps);
  const std::int64_t decay_steps = c.max_steps - c.warmup_steps;
  if (decay_steps <= 0) return c.lr;
  // Cosine from lr (at step = warmup) to min_lr (at step = max_steps), flat after that.
  double progress = double(step - c.warmup_steps) / double(decay_steps);
  if (progress > 1) progress = 1;
  const double pi = std::acos(-1.0);
  return c.min_lr + 0.5 * (1.0 + std::cos(pi * progress)) * (c.lr - c.min_lr);
}

}  // namespace structlm::train
