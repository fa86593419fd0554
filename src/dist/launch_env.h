// Which rank of a data-parallel job this process is, from the variables the usual launchers set
// (issue 17): torchrun's RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT, Slurm's
// SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID and Open MPI's OMPI_COMM_WORLD_RANK / _SIZE /
// _LOCAL_RANK mapped onto them. The rendezvous address always comes from MASTER_ADDR and
// MASTER_PORT (Slurm and mpirun set no such thing; a job script exports them, as for torchrun).
#pragma once
#include <functional>
#include <string>

namespace structlm::dist {

struct LaunchEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;  // empty when world_size is 1
  int master_port = 0;
  std::string launcher;     // "none", "torchrun", "slurm" or "openmpi": which variables were read
  bool distributed() const { return world_size > 1; }
};

// Reads the variables through `get` (std::getenv in production; a map in tests). No variables: a
// single process (world size 1). Set but inconsistent (rank outside the world, a world of 2+
// without MASTER_ADDR/MASTER_PORT, a value that is not a number, two launchers disagreeing) is an
// Error naming the variable and its value.
LaunchEnv read_launch_env(const std::function<const char*(const char*)>& get);
LaunchEnv launch_env_from_process();  // read_launch_env(std::getenv)

}  // namespace structlm::dist
