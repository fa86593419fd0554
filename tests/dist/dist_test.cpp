// Launcher variables (dist/launch_env.h) and the Gloo process group (dist/process_group.h) on
// loopback: two ranks as two threads of this process, each with its own store client and group,
// bounded in time.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "core/error.h"
#include "dist/launch_env.h"
#include "dist/process_group.h"
#include "loopback.h"
#include "support/temp_dir.h"  // error_of

using namespace structlm;
using namespace std::chrono_literals;
using structlm::test_util::error_of;
using structlm::test_util::free_port;

namespace {

dist::LaunchEnv read(const std::map<std::string, std::string>& vars) {
  return dist::read_launch_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST(LaunchEnv, NoVariablesIsOneProcess) {
  auto e = read({});
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(e.rank, 0);
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.launcher, "none");
}

TEST(LaunchEnv, TorchrunSlurmAndOpenMpiMapOntoOneRank) {
  auto t = read({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29500"}});
  EXPECT_EQ(t.launcher, "torchrun");
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.world_size, 4);
  EXPECT_EQ(t.local_rank, 1);
  EXPECT_EQ(t.master_addr, "node7");
  EXPECT_EQ(t.master_port, 29500);
  auto s = read({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}, {"MASTER_ADDR", "n1"}, {"MASTER_PORT", "1234"}});
  EXPECT_EQ(s.launcher, "slurm");
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.world_size, 8);
  EXPECT_EQ(s.local_rank, 1);
  auto m = read({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "2"}});
  EXPECT_EQ(m.launcher, "openmpi");
  EXPECT_EQ(m.rank, 1);
  EXPECT_EQ(m.local_rank, 0);
  // torchrun inside a Slurm job: both sets, agreeing; torchrun's are reported.
  auto both = read({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "9"}});
  EXPECT_EQ(both.launcher, "torchrun");
  // A single-task Slurm job is not distributed and needs no address.
  EXPECT_FALSE(read({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).distributed());
}

TEST(LaunchEnv, InconsistentVariablesAreErrorsNamingThem) {
  EXPECT_NE(error_of([] { read({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}); })
                .find("RANK=2: expected an integer in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of([] { read({{"RANK", "0"}, {"WORLD_SIZE", "two"}}); }).find("WORLD_SIZE=two"), std::string::npos);
  EXPECT_NE(error_of([] { read({{"WORLD_SIZE", "2"}}); }).find("WORLD_SIZE is set but RANK is not"), std::string::npos);
  EXPECT_NE(error_of([] { read({{"RANK", "0"}, {"WORLD_SIZE", "2"}}); }).find("needs MASTER_ADDR and MASTER_PORT"),
            std::string::npos);
  EXPECT_NE(error_of([] { read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}); })
                .find("MASTER_PORT=70000"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "h"},
                    {"MASTER_PORT", "9"}});
            }).find("launcher variables disagree"),
            std::string::npos);
}

TEST(ProcessGroup, TwoRanksOnLoopbackAverageAndBroadcastTheirTensors) {
  const int port = free_port();
  auto rank = [port](int r) {
    dist::LaunchEnv env;
    env.rank = r, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port, env.launcher = "test";
    dist::ProcessGroup pg(env, 20s);
    std::vector<torch::Tensor> t = {torch::full({5}, float(r + 1)), torch::arange(3, torch::kFloat) * float(r)};
    pg.allreduce_mean(t);
    // Broadcast from rank 1: both end with rank 1's values, in both tensors of the bucket.
    std::vector<torch::Tensor> b = {torch::full({2, 2}, float(10 * r)), torch::full({3}, float(-r))};
    pg.broadcast(b, /*root=*/1);
    t.insert(t.end(), b.begin(), b.end());
    pg.barrier();
    return t;
  };
  auto r0 = std::async(std::launch::async, rank, 0);
  auto r1 = std::async(std::launch::async, rank, 1);
  ASSERT_EQ(r0.wait_for(60s), std::future_status::ready);
  ASSERT_EQ(r1.wait_for(60s), std::future_status::ready);
  for (auto* f : {&r0, &r1}) {
    auto t = f->get();
    EXPECT_TRUE(torch::equal(t[0], torch::full({5}, 1.5f)));                   // (1 + 2) / 2
    EXPECT_TRUE(torch::equal(t[1], torch::arange(3, torch::kFloat) * 0.5f));  // (0 + x) / 2
    EXPECT_TRUE(torch::equal(t[2], torch::full({2, 2}, 10.0f)));
    EXPECT_TRUE(torch::equal(t[3], torch::full({3}, -1.0f)));
  }
}

TEST(ProcessGroup, NoRendezvousIsAClearErrorWithinTheTimeout) {
  // Rank 1 of 2 with nothing listening at the address: an error naming it, not a hang.
  dist::LaunchEnv env;
  env.rank = 1, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = free_port();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = error_of([&] { dist::ProcessGroup pg(env, 2s); });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(msg.find("rendezvous at 127.0.0.1:" + std::to_string(env.master_port) + " (rank 1 of 2) failed"),
            std::string::npos)
      << msg;
  EXPECT_LT(s, 30.0);
  // Rank 0 whose peer never comes: the same, from the serving side.
  env.rank = 0;
  env.master_port = free_port();
  EXPECT_NE(error_of([&] { dist::ProcessGroup pg(env, 2s); }).find("(rank 0 of 2) failed"), std::string::npos);
}

TEST(ProcessGroup, ARankThatLeavesMakesTheOthersFailNotHang) {
  const int port = free_port();
  std::promise<void> rank0_ready;
  auto ready = rank0_ready.get_future().share();
  auto leaver = std::async(std::launch::async, [&] {
    dist::LaunchEnv env;
    env.rank = 1, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port;
    dist::ProcessGroup pg(env, 5s);
    ready.wait();  // both groups are up; then this rank leaves without taking part in the
                   // all-reduce, as a killed rank would
  });
  dist::LaunchEnv env;
  env.rank = 0, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port;
  dist::ProcessGroup pg(env, 5s);
  rank0_ready.set_value();
  leaver.wait();
  std::vector<torch::Tensor> t = {torch::ones({4})};
  const auto t0 = std::chrono::steady_clock::now();
  const std::string msg = error_of([&] { pg.allreduce_mean(t); });
  EXPECT_NE(msg.find("all-reduce at 127.0.0.1:" + std::to_string(port) + " (rank 0 of 2) failed"), std::string::npos) << msg;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
}
