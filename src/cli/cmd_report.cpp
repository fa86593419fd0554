// structlm report RUN_DIR... [--out DIR]: report.html (self-contained: plots inline, no scripts,
// no network) and report.md (the same tables) from the raw logs of one or more run directories.
#include <cstdio>

#include "cli/commands.h"
#include "experiment/run_report.h"

namespace structlm::cli {

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Write report.html and report.md from run directories' raw logs");
  struct Opts {
    std::vector<std::string> runs;
    std::string out;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("RUN_DIR", o->runs, "Run directories (runs sharing a config apart from the seed are averaged)")
      ->required();
  cmd->add_option("--out", o->out, "Where to write report.html and report.md (default: the first run directory)");
  cmd->callback([o] {
    auto files = experiment::write_run_report(o->runs, o->out.empty() ? o->runs.front() : o->out);
    std::printf("report: %s (tables also in %s)\n", files.html.c_str(), files.markdown.c_str());
  });
}

}  // namespace structlm::cli
