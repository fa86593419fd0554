// structlm experiment cstde|hcma [--quick]: the comparisons of docs/METHODS.md, one command each.
// Each step (a training run, an alignment) runs as a child process of this binary, or, with
// --plan, is printed as a command to run elsewhere, the tables built by --collect afterwards
// (experiment/step_plan.h).
#include <cstdio>

#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "core/subprocess.h"
#include "experiment/cstde_experiment.h"
#include "experiment/experiment_config.h"
#include "experiment/hcma_experiment.h"

namespace structlm::cli {

namespace {

struct Common {
  bool quick = false, plan = false, collect = false;
  std::string data_dir;
};

// --plan and --collect, the same on both experiments.
void add_plan_flags(CLI::App* cmd, Common& c) {
  auto* plan = cmd->add_flag(
      "--plan", c.plan,
      "Run nothing: prepare the data, then print (and write to OUT/plan.txt) one complete shell command per step not "
      "yet finished; the commands may run on any machine sharing the file system, in any order within a stage "
      "(\"# stage N\" lines separate stages); see docs/DISTRIBUTED.md");
  cmd->add_flag("--collect", c.collect,
                "Run no step: measure the finished runs and write the tables; an unfinished step is an error "
                "listing each with its command")
      ->excludes(plan);
}

// The plan on stdout (the same text as OUT/plan.txt): `... --plan > jobs.txt` works too.
void print_plan(const std::vector<experiment::PlannedStep>& steps) {
  std::fputs(experiment::plan_text(steps).c_str(), stdout);
}

void add_cstde(CLI::App* cmd) {
  auto* cstde = cmd->add_subcommand(
      "cstde", "CSTDE vs the plain GPT: every variant x seed trained at equal budget, then perplexity, speed, "
               "memory, dependency retention and generation measured (docs/METHODS.md §1c)");
  auto o = std::make_shared<experiment::CstdeExperimentOptions>();
  auto c = std::make_shared<Common>();
  cstde->footer("Config keys (unknown ones are refused):\n" + experiment::experiment_config_help("cstde"));
  cstde->add_flag("--quick", c->quick, "CI size (configs/cstde_quick.json): minutes, not results");
  cstde->add_option("--config", o->config, "Experiment config (default configs/cstde.json, or cstde_quick.json with --quick)");
  cstde->add_option("--out", o->out, "Experiment directory (default runs/cstde or runs/cstde-quick); rerun to resume");
  add_data_dir_option(cstde, c->data_dir);
  cstde->add_option("--variants", o->only_variants, "Only these variants (and the baseline)");
  cstde->add_option("--seeds", o->seeds, "Only the first N seeds of the config");
  add_plan_flags(cstde, *c);
  cstde->add_flag("--measure", o->measure_finished,
                  "With --plan: also measure every finished run not yet measured (RUN/result.json), so results "
                  "land run by run while other runs train; --collect reuses them")
      ->needs(cstde->get_option("--plan"));
  cstde->callback([o, c] {
    const auto ws = make_workspace(c->data_dir);
    if (o->config.empty()) o->config = ws.config_path(c->quick ? "cstde_quick.json" : "cstde.json");
    if (o->out.empty()) o->out = c->quick ? "runs/cstde-quick" : "runs/cstde";
    if (c->plan)
      print_plan(experiment::plan_cstde_experiment(*o, ws, self_exe()));
    else if (c->collect)
      experiment::collect_cstde_experiment(*o, ws, self_exe());
    else
      experiment::run_cstde_experiment(*o, ws, *experiment::subprocess_runner(ws, self_exe()));
  });
}

void add_hcma(CLI::App* cmd) {
  auto* hcma = cmd->add_subcommand(
      "hcma", "HCMA vs its baselines on one frozen model: align with every method x seed, then rare-token recall, "
              "attacks, long range, stability, isotropy, WordNet and speed measured (docs/METHODS.md §2d)");
  auto h = std::make_shared<experiment::HcmaExperimentOptions>();
  auto c = std::make_shared<Common>();
  hcma->footer("Config keys (unknown ones are refused):\n" + experiment::experiment_config_help("hcma"));
  hcma->add_flag("--quick", c->quick, "CI size (configs/hcma_quick.json): minutes, not results");
  hcma->add_option("--config", h->config, "Experiment config (default configs/hcma.json, or hcma_quick.json with --quick)");
  hcma->add_option("--out", h->out, "Experiment directory (default runs/hcma or runs/hcma-quick); rerun to resume");
  add_data_dir_option(hcma, c->data_dir);
  hcma->add_option("--model", h->model, "Align this checkpoint or run directory instead of training one");
  hcma->add_option("--tokenizer", h->tokenizer, "With --model: its tokenizer, when the checkpoint does not name it");
  hcma->add_option("--methods", h->only_methods, "Only these methods (the original model is always measured)");
  hcma->add_option("--seeds", h->seeds, "Only the first N seeds of the config");
  hcma->add_option("--threads", h->threads, "CPU threads (0: all cores)")->capture_default_str();
  add_plan_flags(hcma, *c);
  hcma->callback([h, c] {
    const auto ws = make_workspace(c->data_dir);
    if (h->config.empty()) h->config = ws.config_path(c->quick ? "hcma_quick.json" : "hcma.json");
    if (h->out.empty()) h->out = c->quick ? "runs/hcma-quick" : "runs/hcma";
    if (c->plan)
      print_plan(experiment::plan_hcma_experiment(*h, ws, self_exe()));
    else if (c->collect)
      experiment::collect_hcma_experiment(*h, ws, self_exe());
    else
      experiment::run_hcma_experiment(*h, ws, *experiment::subprocess_runner(ws, self_exe()));
  });
}

}  // namespace

void add_experiment(CLI::App& app) {
  auto* cmd = app.add_subcommand("experiment", "Run a method's comparison against its baselines (tables + raw logs)");
  cmd->require_subcommand(1);
  add_cstde(cmd);
  add_hcma(cmd);
}

}  // namespace structlm::cli
