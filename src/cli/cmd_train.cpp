// structlm train: one run directory per training run; --resume continues it exactly.
#include <cstdio>

#include "cli/commands.h"
#include "cli/workspace.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "report/run_info.h"
#include "torch/version.h"  // TORCH_VERSION for run_info.json
#include "train/trainer.h"

namespace structlm::cli {

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a GPT from a config file (see configs/)");
  struct Opts {
    std::string config, run_dir, tokenizer, data_dir = "data";
    std::vector<std::string> corpora, overrides;
    bool resume = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config", o->config, "Run config JSON {model, train, data}; defaults to RUN_DIR/config.json on --resume");
  cmd->add_option("--run-dir", o->run_dir, "Run directory (config, metrics.jsonl, checkpoints/)")->required();
  cmd->add_flag("--resume", o->resume, "Continue from RUN_DIR/checkpoints/latest.safetensors");
  cmd->add_option("--set", o->overrides, "Override a config field, e.g. --set train.max_steps=500 --set model.n_layer=2");
  cmd->add_option("--corpus", o->corpora, "Train on these corpora's train splits (fills the config's data section)");
  cmd->add_option("--tokenizer", o->tokenizer, "Tokenizer directory or 'gpt2' (with --corpus)");
  cmd->add_option("--data-dir", o->data_dir, "Where prepared data lives")->capture_default_str();
  cmd->callback([o] {
    std::string config_path = o->config;
    if (config_path.empty()) {
      if (!o->resume) throw Error("train: --config is required (or --resume an existing run)");
      config_path = o->run_dir + "/config.json";
    }
    json j = load_json(config_path);
    // A demo config (configs/demo.json) is also a run config plus a section only `demo` reads.
    if (j.is_object()) j.erase("demo");
    for (const auto& a : o->overrides) apply_override(j, a);
    if (!o->corpora.empty()) {
      if (o->tokenizer.empty()) throw Error("train: --corpus needs --tokenizer");
      json data = training_data_section(o->data_dir, o->corpora, o->tokenizer);
      j["data"] = data;
    }
    std::string origin = config_path + (o->overrides.empty() && o->corpora.empty() ? "" : " (with command-line overrides)");
    auto cfg = train::RunConfig::from_json(j, origin);
    // Not over a finished run's record when train() is about to refuse to overwrite that run.
    if (o->resume || !file_exists(o->run_dir + "/checkpoints/latest.safetensors"))
      report::write_run_info(o->run_dir, repo_root(), TORCH_VERSION, o->resume);
    auto r = train::train(cfg, o->run_dir, o->resume);
    std::printf("trained %lld steps: train loss %.4f, val loss %.4f, %.0f tokens/s, %.1f s -> %s\n",
                (long long)r.steps, r.final_train_loss, r.final_val_loss, r.tokens_per_s, r.wall_s,
                r.last_checkpoint.c_str());
  });
}

}  // namespace structlm::cli
