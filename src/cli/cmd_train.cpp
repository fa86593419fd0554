// structlm train: one run directory per training run; --resume continues it exactly.
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "experiment/step_flags.h"
#include "experiment/steps.h"

namespace structlm::cli {

namespace flag = experiment::flag;

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a GPT from a config file (see configs/)");
  struct Opts {
    experiment::TrainRequest r;
    std::string data_dir;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option(flag::kConfig, o->r.config, "Run config JSON {model, train, data}; defaults to RUN_DIR/config.json on --resume");
  cmd->add_option(flag::kRunDir, o->r.run_dir, "Run directory (config, metrics.jsonl, checkpoints/)")->required();
  auto* resume = cmd->add_flag(flag::kResume, o->r.resume, "Continue from RUN_DIR/checkpoints/latest.safetensors");
  cmd->add_flag(flag::kAutoResume, o->r.auto_resume,
                "Continue when RUN_DIR has a checkpoint, else start a new run (one command line for a job and its requeues)")
      ->excludes(resume);
  cmd->add_option(flag::kSet, o->r.overrides, "Override a config field, e.g. --set train.max_steps=500 --set model.n_layer=2");
  cmd->add_option(flag::kCorpus, o->r.corpora, "Train on these corpora's train splits (fills the config's data section)");
  cmd->add_option(flag::kTokenizer, o->r.tokenizer,
                  "Tokenizer directory or 'gpt2'; the model's vocabulary is its size unless the config sets one");
  add_data_dir_option(cmd, o->data_dir);
  cmd->footer("Config fields (--set SECTION.FIELD=VALUE):\n" + train::RunConfig::fields_help());
  cmd->callback([o] {
    // One rank of a data-parallel job when a launcher (structlm launch, torchrun, srun, mpirun)
    // says so; the group's timeout bounds the wait for a rank that never comes or hangs.
    const dist::LaunchEnv env = dist::launch_env_from_process();
    std::unique_ptr<dist::ProcessGroup> group;
    if (env.distributed()) group = std::make_unique<dist::ProcessGroup>(env, std::chrono::minutes(30));
    auto r = experiment::run_training(make_workspace(o->data_dir), o->r, group.get());
    if (group && group->rank() != 0) return;  // rank 0 reports for the job
    std::printf("trained %lld steps: train loss %.4f, val loss %.4f, %.0f tokens/s, %.1f s -> %s\n",
                (long long)r.steps, r.final_train_loss, r.final_val_loss, r.tokens_per_s, r.wall_s,
                r.last_checkpoint.c_str());
  });
}

}  // namespace structlm::cli
