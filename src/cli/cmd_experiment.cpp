// structlm experiment cstde|hcma [--quick]: the comparisons of docs/METHODS.md, one command each.
#include "cli/commands.h"
#include "cli/experiment_cstde.h"
#include "cli/experiment_hcma.h"
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

  auto* hcma = cmd->add_subcommand(
      "hcma", "HCMA vs its baselines on one frozen model: align with every method x seed, then rare-token recall, "
              "attacks, long range, stability, isotropy, WordNet and speed measured (docs/METHODS.md §2d)");
  auto h = std::make_shared<HcmaExperimentOptions>();
  auto hquick = std::make_shared<bool>(false);
  hcma->add_flag("--quick", *hquick, "CI size (configs/hcma_quick.json): minutes, not results");
  hcma->add_option("--config", h->config, "Experiment config (default configs/hcma.json, or hcma_quick.json with --quick)");
  hcma->add_option("--out", h->out, "Experiment directory (default runs/hcma or runs/hcma-quick); rerun to resume");
  hcma->add_option("--data-dir", h->data_dir, "Where prepared data lives")->capture_default_str();
  hcma->add_option("--model", h->model, "Align this checkpoint or run directory instead of training one");
  hcma->add_option("--tokenizer", h->tokenizer, "With --model: its tokenizer, when the checkpoint does not name it");
  hcma->add_option("--methods", h->only_methods, "Only these methods (the original model is always measured)");
  hcma->add_option("--seeds", h->seeds, "Only the first N seeds of the config");
  hcma->add_option("--threads", h->threads, "CPU threads (0: all cores)")->capture_default_str();
  hcma->callback([h, hquick] {
    if (h->config.empty()) h->config = repo_root() + (*hquick ? "/configs/hcma_quick.json" : "/configs/hcma.json");
    if (h->out.empty()) h->out = *hquick ? "runs/hcma-quick" : "runs/hcma";
    run_hcma_experiment(*h);
  });
}

}  // namespace structlm::cli
