// `structlm launch`: torchrun's standalone mode for one machine. Starts N copies of a structlm
// command as the ranks of one data-parallel job (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT set as torchrun sets them), and ends them together: when one rank
// fails, the others are given a grace period to fail on their own (a collective with a peer gone
// errs at once), then terminated. Several machines: start `structlm train` under torchrun, Slurm
// (srun) or mpirun instead; dist/launch_env.h reads their variables.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace structlm::dist {

struct LaunchOptions {
  int nproc = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;  // 0: a free port of this machine
  std::vector<std::string> argv;  // the command each rank runs; argv[0] looked up in PATH
  std::chrono::seconds grace{30};  // after a rank fails, how long the others get before SIGTERM
};

struct LaunchResult {
  int exit_code = 0;     // 0 when every rank succeeded, else the first failing rank's code (128 + N: signal N)
  int failed_rank = -1;  // that rank, -1 when none failed
  int master_port = 0;   // the port the ranks met at
};

// Runs the job and waits for every rank. SIGINT and SIGTERM sent to the launcher are passed on
// to every rank once (the ranks run in their own process group, so a terminal's Ctrl-C reaches
// them through the launcher only, and a trainer stops after its step with a checkpoint).
// Launcher variables of an enclosing Slurm or Open MPI job are removed from the ranks'
// environment, so they describe this job alone. Errors starting a rank are structlm::Error.
LaunchResult launch_local(const LaunchOptions& o);

// A TCP port nothing listens on now (bound to 0 on the loopback, read back, released).
int free_port();

}  // namespace structlm::dist
