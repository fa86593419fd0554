#include "train/config.h"

#include <algorithm>
#include <cmath>

#include "model/precision_name.h"

namespace structlm::train {

// ---- TrainConfig -----------------------------------------------------------------------------

namespace {
auto finite_positive = [](double v) { return std::isfinite(v) && v > 0; };
auto finite_non_negative = [](double v) { return std::isfinite(v) && v >= 0; };
auto unit_interval = [](double v) { return v >= 0 && v < 1; };
}  // namespace

const FieldTable<TrainConfig>& TrainConfig::fields() {
  using C = TrainConfig;
  static const auto t =
      FieldTable<C>("train field")
          .add("batch_size", +[](C& c) -> std::int64_t& { return c.batch_size; }, "sequences per micro-batch", "> 0", positive)
          .add("grad_accum", +[](C& c) -> std::int64_t& { return c.grad_accum; }, "micro-batches per optimizer step", "> 0", positive)
          .add("max_steps", +[](C& c) -> std::int64_t& { return c.max_steps; }, "optimizer steps of the schedule", "> 0", positive)
          .add("stop_at_step", +[](C& c) -> std::int64_t& { return c.stop_at_step; }, "stop early (checkpointed) at this step",
               ">= 0 (0: run to max_steps)", non_negative)
          .add("lr", +[](C& c) -> double& { return c.lr; }, "peak learning rate", "a number > 0", finite_positive)
          .add("min_lr", +[](C& c) -> double& { return c.min_lr; }, "learning rate at the end of the cosine")
          .add("warmup_steps", +[](C& c) -> std::int64_t& { return c.warmup_steps; }, "linear warm-up steps", ">= 0", non_negative)
          .add("weight_decay", +[](C& c) -> double& { return c.weight_decay; }, "AdamW decoupled weight decay", ">= 0",
               finite_non_negative)
          .add("beta1", +[](C& c) -> double& { return c.beta1; }, "AdamW beta1", "in [0, 1)", unit_interval)
          .add("beta2", +[](C& c) -> double& { return c.beta2; }, "AdamW beta2", "in [0, 1)", unit_interval)
          .add("eps", +[](C& c) -> double& { return c.eps; }, "AdamW epsilon", "> 0", finite_positive)
          .add("grad_clip", +[](C& c) -> double& { return c.grad_clip; }, "global gradient-norm clip",
               ">= 0 (0 disables clipping)", finite_non_negative)
          .add("eval_every", +[](C& c) -> std::int64_t& { return c.eval_every; }, "steps between validations",
               ">= 0 (0: only at the end)", non_negative)
          .add("eval_log_points", +[](C& c) -> std::int64_t& { return c.eval_log_points; },
               "also validate at this many log-spaced steps from 1 to max_steps (learning curves over tokens)",
               ">= 0 (0: none)", non_negative)
          .add("eval_batches", +[](C& c) -> std::int64_t& { return c.eval_batches; }, "batches per validation", "> 0", positive)
          .add("ckpt_every", +[](C& c) -> std::int64_t& { return c.ckpt_every; }, "steps between checkpoints",
               ">= 0 (0: only at the end)", non_negative)
          .add("keep_steps", +[](C& c) -> std::vector<std::int64_t>& { return c.keep_steps; },
               "steps whose checkpoints are kept as their own files (checkpoints/keep_NNNNNNN.safetensors); "
               "increasing, each in [1, max_steps] (empty: none)")
          .add("log_every", +[](C& c) -> std::int64_t& { return c.log_every; }, "steps between log lines", "> 0", positive)
          .add("max_minutes", +[](C& c) -> double& { return c.max_minutes; }, "wall-time limit (checkpointed stop)",
               ">= 0 (0: no limit)", finite_non_negative)
          .add("seed", +[](C& c) -> std::uint64_t& { return c.seed; }, "batches, dropout and initial weights")
          .add("device", +[](C& c) -> std::string& { return c.device; }, "auto, cpu, cuda or cuda:N",
               "non-empty (auto, cpu, cuda or cuda:N)", [](const std::string& d) { return !d.empty(); })
          .add("threads", +[](C& c) -> int& { return c.threads; }, "CPU threads", ">= 0 (0: all available cores)", non_negative)
          .add("precision", +[](C& c) -> std::string& { return c.precision; },
               "compute precision: bf16 = bf16 matmuls, fp32 weights and optimizer; auto = bf16 where faster",
               model::kPrecisionNames, model::is_precision_name)
          .add("bucket_mb", +[](C& c) -> double& { return c.bucket_mb; },
               "data-parallel gradient bucket in MiB, all-reduced during the backward pass", ">= 0 (0: one bucket after it)",
               finite_non_negative);
  return t;
}

json TrainConfig::to_json() const { return fields().to_json(*this); }

std::vector<std::int64_t> TrainConfig::log_eval_steps() const {
  std::vector<std::int64_t> steps;
  const std::int64_t n = eval_log_points;
  for (std::int64_t k = 0; k < n; ++k) {
    const double x = n == 1 ? double(max_steps) : std::pow(double(max_steps), double(k) / double(n - 1));
    const auto s = std::clamp<std::int64_t>(std::llround(x), 1, max_steps);
    if (steps.empty() || s > steps.back()) steps.push_back(s);
  }
  return steps;
}

void TrainConfig::check_keep_steps(const std::string& path) const {
  for (std::size_t i = 0; i < keep_steps.size(); ++i) {
    const std::int64_t s = keep_steps[i];
    check(s >= 1 && s <= max_steps, path,
          "train field 'keep_steps' holds " + std::to_string(s) + ", outside [1, max_steps = " + std::to_string(max_steps) + "]");
    check(i == 0 || s > keep_steps[i - 1], path,
          "train field 'keep_steps' must be increasing (" + std::to_string(keep_steps[i - 1]) + " then " +
              std::to_string(s) + ")");
  }
}

TrainConfig TrainConfig::from_json(const json& j, const std::string& path) {
  // nlohmann converts -1 to 2^64 - 1 without a word; a negative seed is a typo, not a seed.
  if (j.is_object() && j.contains("seed") && j["seed"].is_number_integer() && !j["seed"].is_number_unsigned())
    fail(path, "train field 'seed' must be a non-negative integer");
  if (j.is_object() && j.contains("seed") && j["seed"].is_number_float())
    fail(path, "train field 'seed' has the wrong type (number with a fraction, expected an integer)");
  TrainConfig c;
  fields().read(j, c, path);
  check(std::isfinite(c.min_lr) && c.min_lr >= 0 && c.min_lr <= c.lr, path, "train field 'min_lr' must be in [0, lr]");
  c.check_keep_steps(path);
  return c;
}

// ---- DataConfig ------------------------------------------------------------------------------

const FieldTable<DataConfig>& DataConfig::fields() {
  using C = DataConfig;
  static const auto t =
      FieldTable<C>("data field")
          .add("train_shards", +[](C& c) -> std::vector<std::string>& { return c.train_shards; }, "token shards to train on")
          .add("val_shards", +[](C& c) -> std::vector<std::string>& { return c.val_shards; }, "token shards to validate on")
          .add("tokenizer", +[](C& c) -> std::string& { return c.tokenizer; }, "the shards' tokenizer (a directory or gpt2)");
  return t;
}

json DataConfig::to_json() const { return fields().to_json(*this); }

DataConfig DataConfig::from_json(const json& j, const std::string& path) {
  DataConfig c;
  // A single string is a common slip for a one-shard list; say so instead of "wrong type".
  for (const char* key : {"train_shards", "val_shards"})
    if (j.is_object() && j.contains(key) && j[key].is_string())
      fail(path, std::string("data field '") + key + "' must be a list of paths, got a string");
  fields().read(j, c, path);
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
  c.model = model::ModelConfig::from_json(section("model"), path);
  c.train = TrainConfig::from_json(section("train"), path);
  c.data = DataConfig::from_json(section("data"), path);
  return c;
}

RunConfig RunConfig::load(const std::string& path) { return from_json(load_json(path), path); }

std::string RunConfig::fields_help() {
  return "model:\n" + model::ModelConfig::fields_help("model.") + "train:\n" + TrainConfig::fields().help("train.") +
         "data:\n" + DataConfig::fields().help("data.");
}

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
