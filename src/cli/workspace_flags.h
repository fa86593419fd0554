// How a command gets its Workspace (workspace/workspace.h): the global --root option and each
// command's --data-dir, applied by the one rule documented there and in docs/ARCHITECTURE.md.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "workspace/workspace.h"

namespace structlm::cli {

void add_root_option(CLI::App& app);                         // structlm --root DIR <command> ...
void add_data_dir_option(CLI::App* cmd, std::string& data_dir);  // <command> --data-dir DIR
workspace::Workspace make_workspace(const std::string& data_dir = "");

}  // namespace structlm::cli
