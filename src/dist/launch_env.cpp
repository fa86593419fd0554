#include "dist/launch_env.h"

#include <cstdlib>
#include <optional>

#include "core/error.h"

namespace structlm::dist {

namespace {

// One launcher's variable names for rank, world size and local rank.
struct Names {
  const char* launcher;
  const char *rank, *world, *local;
};
constexpr Names kLaunchers[] = {
    {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK"},
    {"slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
    {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
};

std::optional<long> integer(const std::function<const char*(const char*)>& get, const char* name, long min, long max) {
  const char* v = get(name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < min || x > max)
    throw Error(std::string("launcher variable ") + name + "=" + v + ": expected an integer in [" + std::to_string(min) +
                ", " + std::to_string(max) + "]");
  return x;
}

}  // namespace

LaunchEnv read_launch_env(const std::function<const char*(const char*)>& get) {
  LaunchEnv env;
  env.launcher = "none";
  for (const auto& n : kLaunchers) {
    const auto world = integer(get, n.world, 1, 1 << 20);
    if (!world) continue;
    const auto rank = integer(get, n.rank, 0, *world - 1);
    if (!rank) throw Error(std::string("launcher variable ") + n.world + " is set but " + n.rank + " is not");
    const int local = int(integer(get, n.local, 0, *world - 1).value_or(0));
    if (env.launcher != "none") {
      // torchrun inside a Slurm allocation sets both: they must describe the same process.
      if (env.rank != *rank || env.world_size != *world)
        throw Error("launcher variables disagree: " + env.launcher + " says rank " + std::to_string(env.rank) + " of " +
                    std::to_string(env.world_size) + ", " + n.launcher + " says rank " + std::to_string(*rank) +
                    " of " + std::to_string(*world));
      continue;  // the first launcher found (torchrun's names) is the one reported
    }
    env.rank = int(*rank);
    env.world_size = int(*world);
    env.local_rank = local;
    env.launcher = n.launcher;
  }
  if (!env.distributed()) return env;
  const char* addr = get("MASTER_ADDR");
  if (!addr || !*addr)
    throw Error("a job of " + std::to_string(env.world_size) + " ranks (" + env.launcher +
                ") needs MASTER_ADDR and MASTER_PORT: the host and port of rank 0's rendezvous");
  env.master_addr = addr;
  const auto port = integer(get, "MASTER_PORT", 1, 65535);
  if (!port) throw Error("MASTER_ADDR is set but MASTER_PORT is not");
  env.master_port = int(*port);
  return env;
}

LaunchEnv launch_env_from_process() {
  return read_launch_env([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace structlm::dist
