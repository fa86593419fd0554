#include "train/checkpointing.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "model/checkpoint.h"
#include "workspace/workspace.h"

namespace structlm::train {

std::string checkpoint_dir(const std::string& run_dir) { return run_dir + "/checkpoints"; }

std::string step_checkpoint_path(const std::string& run_dir, std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "/step_%07lld.safetensors", (long long)step);
  return checkpoint_dir(run_dir) + name;
}

std::string latest_checkpoint_path(const std::string& run_dir) {
  return checkpoint_dir(run_dir) + "/latest.safetensors";
}

std::string kept_checkpoint_path(const std::string& run_dir, std::int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "/keep_%07lld.safetensors", (long long)step);
  return checkpoint_dir(run_dir) + name;
}

json TrainState::to_json() const {
  return json{{"step", step},         {"tokens_seen", tokens_seen}, {"train_loss", train_loss},
              {"val_loss", val_loss}, {"world_size", world_size}};
}

TrainState TrainState::from_json(const json& j, const std::string& path) {
  if (!j.is_object()) fail(path, "metadata 'train_state' is missing or not an object");
  TrainState s;
  read_field(j, "step", s.step, path);
  read_field(j, "tokens_seen", s.tokens_seen, path);
  read_field(j, "train_loss", s.train_loss, path);
  read_field(j, "val_loss", s.val_loss, path);
  if (j.contains("world_size")) read_field(j, "world_size", s.world_size, path);
  check(s.step >= 0, path, "metadata 'train_state.step' is negative");
  check(s.world_size >= 1, path, "metadata 'train_state.world_size' is below 1");
  return s;
}

// Copy through a temporary file, fsync, rename: readers of latest.safetensors see the old file or
// the new one, never half of one. Streams the bytes, so a large checkpoint is never held in memory.
static void copy_file_atomic(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  const std::string tmp = to + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) fail(tmp, "cannot copy from " + from + " (" + ec.message() + ")");
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    fs::remove(tmp, ec);
    fail(tmp, "cannot flush to disk");
  }
  ::close(fd);
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(to, "cannot replace (" + ec.message() + ")");
  }
}

// A hard link made under a temporary name and renamed into place (atomic, no second copy of the
// bytes); a copy where the file system refuses links.
static void link_file_atomic(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  const std::string tmp = to + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_hard_link(from, tmp, ec);
  if (ec) {
    copy_file_atomic(from, to);
    return;
  }
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(to, "cannot replace (" + ec.message() + ")");
  }
}

namespace {

// The step file (written by `save`, given its path and metadata), then its atomic copy as latest.
template <typename Save>
std::string write_checkpoint_files(const std::string& run_dir, const RunConfig& cfg, const TrainState& state, Save save) {
  const std::string path = step_checkpoint_path(run_dir, state.step);
  make_dirs(checkpoint_dir(run_dir));
  json meta = {{"format", "structlm-checkpoint"},
               {"run_config", cfg.to_json()},
               {"train_state", state.to_json()}};
  save(path, meta);
  copy_file_atomic(path, latest_checkpoint_path(run_dir));
  const auto& keep = cfg.train.keep_steps;
  if (std::find(keep.begin(), keep.end(), state.step) != keep.end() &&
      !file_exists(kept_checkpoint_path(run_dir, state.step)))
    link_file_atomic(path, kept_checkpoint_path(run_dir, state.step));
  return path;
}

}  // namespace

std::string write_run_checkpoint(const std::string& run_dir, model::GPT& model, const AdamW& opt,
                                 const RunConfig& cfg, const TrainState& state) {
  return write_checkpoint_files(run_dir, cfg, state, [&](const std::string& path, const json& meta) {
    model::save_checkpoint(path, model, opt.state(), meta);
  });
}

std::string write_run_checkpoint(const std::string& run_dir, model::LlamaForCausalLM& model, const AdamW& opt,
                                 const RunConfig& cfg, const TrainState& state) {
  return write_checkpoint_files(run_dir, cfg, state, [&](const std::string& path, const json& meta) {
    model::save_checkpoint(path, model, opt.state(), meta);
  });
}

void check_resume_config(const RunConfig& saved, const RunConfig& now, const std::string& path, int saved_world,
                         int now_world) {
  // Fields that change when and how a run reports or stops, or where it runs, but not what it
  // computes: a resumed run may change them.
  static const char* free_fields[] = {"max_steps",    "stop_at_step", "max_minutes", "eval_every", "log_every",
                                      "ckpt_every",   "keep_steps",   "eval_batches", "device",      "threads"};
  json a = saved.to_json(), b = now.to_json();
  // Paths compare by the files they name: runs made before paths were stored absolute hold them
  // relative to the directory training started in.
  a["data"] = workspace::absolute_data_paths(a["data"]);
  b["data"] = workspace::absolute_data_paths(b["data"]);
  for (const char* f : free_fields) {
    a["train"].erase(f);
    b["train"].erase(f);
  }
  std::string diffs;
  // The windows per step are grad_accum x ranks (trainer.h): that product may not change.
  if (saved.train.grad_accum * saved_world != now.train.grad_accum * now_world)
    diffs = "train.grad_accum x ranks was " + std::to_string(saved.train.grad_accum) + " x " +
            std::to_string(saved_world) + ", now " + std::to_string(now.train.grad_accum) + " x " + std::to_string(now_world);
  a["train"].erase("grad_accum");
  b["train"].erase("grad_accum");
  for (const char* section : {"model", "train", "data"}) {
    const json& sa = a[section];
    const json& sb = b[section];
    for (auto it = sa.begin(); it != sa.end(); ++it) {
      const json vb = sb.contains(it.key()) ? sb[it.key()] : json();
      if (vb != it.value())
        diffs += std::string(diffs.empty() ? "" : "; ") + section + "." + it.key() + " was " + it.value().dump() +
                 ", now " + vb.dump();
    }
    // Keys only the new config writes (model.arch and the Llama fields, a cstde section).
    for (auto it = sb.begin(); it != sb.end(); ++it)
      if (!sa.contains(it.key()))
        diffs += std::string(diffs.empty() ? "" : "; ") + section + "." + it.key() + " was null, now " + it.value().dump();
  }
  if (!diffs.empty())
    fail(path, "cannot resume with a different configuration (" + diffs +
                   "); only max_steps, stop_at_step, max_minutes, eval/log/checkpoint cadence, keep_steps, eval_batches, "
                   "device and threads may change");
}

}  // namespace structlm::train
