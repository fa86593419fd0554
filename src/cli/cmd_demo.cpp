// structlm demo: the main job end to end on the bundled corpora (experiment/demo.h).
#include "cli/commands.h"
#include "cli/workspace_flags.h"
#include "experiment/demo.h"
#include "experiment/experiment_config.h"

namespace structlm::cli {

void add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the main job end to end on the bundled corpora");
  struct Opts {
    experiment::DemoOptions demo;
    std::string data_dir;
  };
  auto o = std::make_shared<Opts>();
  cmd->footer("Config keys (unknown ones are refused):\n" + experiment::experiment_config_help("demo"));
  cmd->add_option("--out", o->demo.out, "Run directory")->capture_default_str();
  add_data_dir_option(cmd, o->data_dir);
  cmd->add_option("--config", o->demo.config, "Demo config (model, train, demo sections) [default: ROOT/configs/demo.json]");
  cmd->add_option("--minutes", o->demo.minutes, "Training time budget in minutes (default: the config's)");
  cmd->callback([o] { experiment::run_demo(o->demo, make_workspace(o->data_dir)); });
}

}  // namespace structlm::cli
