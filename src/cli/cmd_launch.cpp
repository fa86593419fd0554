// structlm launch: N ranks of a data-parallel structlm command on this machine (torchrun's
// standalone mode); the ranks find each other through dist/launch_env.h's variables.
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "core/subprocess.h"
#include "dist/launch.h"

namespace structlm::cli {

void add_launch(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "launch", "Run a structlm command as N data-parallel ranks on this machine (like torchrun --standalone)");
  auto o = std::make_shared<dist::LaunchOptions>();
  auto args = std::make_shared<std::vector<std::string>>();
  auto grace_s = std::make_shared<int>(30);
  cmd->add_option("--nproc", o->nproc, "Number of ranks (processes)")->required()->check(CLI::Range(1, 1024));
  cmd->add_option("--master-port", o->master_port, "Rendezvous port on 127.0.0.1 (default: a free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--grace", *grace_s, "Seconds the other ranks get to stop after one fails, before SIGTERM")
      ->check(CLI::Range(1, 3600))
      ->default_val(30);
  cmd->add_option("command", *args, "The structlm command each rank runs, after --: e.g. -- train --config C --run-dir R")
      ->required();
  cmd->footer(
      "Each step of `train` then uses grad_accum x N micro-batches, so N ranks of grad_accum A train what one\n"
      "process with grad_accum N*A does. Several machines: run `structlm train` under torchrun, srun or mpirun\n"
      "with MASTER_ADDR and MASTER_PORT exported; each rank reads RANK/WORLD_SIZE (or SLURM_*, OMPI_*).");
  cmd->callback([o, args, grace_s] {
    dist::LaunchOptions opts = *o;
    opts.grace = std::chrono::seconds(*grace_s);
    opts.argv = {self_exe()};
    opts.argv.insert(opts.argv.end(), args->begin(), args->end());
    const dist::LaunchResult r = dist::launch_local(opts);
    if (r.failed_rank >= 0)
      throw Error("launch: rank " + std::to_string(r.failed_rank) + " of " + std::to_string(opts.nproc) +
                  " exited with code " + std::to_string(r.exit_code) +
                  (r.exit_code > 128 ? " (killed by signal " + std::to_string(r.exit_code - 128) + ")" : "") +
                  "; the job was stopped");
    std::fprintf(stderr, "launch: %d ranks finished (rendezvous 127.0.0.1:%d)\n", opts.nproc, r.master_port);
  });
}

}  // namespace structlm::cli
