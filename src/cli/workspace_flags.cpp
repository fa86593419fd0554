#include "cli/workspace_flags.h"
#include "experiment/step_flags.h"

namespace structlm::cli {

namespace {
std::string& root_flag() {
  static std::string root;
  return root;
}
}  // namespace

void add_root_option(CLI::App& app) {
  app.add_option(experiment::flag::kRoot, root_flag(),
                 "The structlm checkout (configs/, deps/); default $STRUCTLM_ROOT, else the source tree of this build");
}

void add_data_dir_option(CLI::App* cmd, std::string& data_dir) {
  cmd->add_option(experiment::flag::kDataDir, data_dir, "Where prepared data lives (default $STRUCTLM_DATA, else ROOT/data)");
}

workspace::Workspace make_workspace(const std::string& data_dir) { return workspace::Workspace::locate(root_flag(), data_dir); }

}  // namespace structlm::cli
