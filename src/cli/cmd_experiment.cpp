// structlm experiment cstde [--quick]: the comparisons of docs/METHODS.md, one command each.
#include "cli/commands.h"
#include "cli/experiment_cstde.h"
#include "cli/workspace.h"

namespace structlm::cli {

void add_experiment(CLI::App& app) {
  auto* cmd = app.add_subcommand("experiment", "Run a method's comparison against its baselines (tables + raw logs)");
  cmd->require_subcommand(1);

  auto* cstde = cmd->add_subcommand(
      "cstde", "CSTDE vs the plain GPT: every variant x seed trained at equal budget, then perplexity, speed, "
               "memory, dependency retention and generation measured (docs/METHODS.md §1c)");
  auto o = std::make_shared<CstdeExperimentOptions>();
  auto quick = std::make_shared<bool>(false);
  cstde->add_flag("--quick", *quick, "CI size (configs/cstde_quick.json): minutes, not results");
  cstde->add_option("--config", o->config, "Experiment config (default configs/cstde.json, or cstde_quick.json with --quick)");
  cstde->add_option("--out", o->out, "Experiment directory (default runs/cstde or runs/cstde-quick); rerun to resume");
  cstde->add_option("--data-dir", o->data_dir, "Where prepared data lives")->capture_default_str();
  cstde->add_option("--variants", o->only_variants, "Only these variants (and the baseline)");
  cstde->add_option("--seeds", o->seeds, "Only the first N seeds of the config");
  cstde->callback([o, quick] {
    if (o->config.empty()) o->config = repo_root() + (*quick ? "/configs/cstde_quick.json" : "/configs/cstde.json");
    if (o->out.empty()) o->out = *quick ? "runs/cstde-quick" : "runs/cstde";
    run_cstde_experiment(*o);
  });
}

}  // namespace structlm::cli
