// dist::GradReducer on loopback, two ranks as two threads: its overlapped, bucketed all-reduce
// gives every rank exactly the gradients one flat all-reduce after the backward pass gives, with
// accumulation over micro-batches, a parameter the pass does not reach and a tied weight; and its
// buckets really start during the backward pass.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "dist/grad_reducer.h"
#include "dist/process_group.h"
#include "loopback.h"

using namespace structlm;
using namespace std::chrono_literals;
using structlm::test_util::free_port;

namespace {

// An unused layer, an input table tied to the output (as GPT's wte), three linear layers. The
// unused layer comes first: its bucket is the last, which waits for finish() anyway.
struct NetImpl : torch::nn::Module {
  torch::Tensor table;
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr}, unused{nullptr};
  NetImpl() {
    unused = register_module("unused", torch::nn::Linear(3, 3));
    table = register_parameter("table", torch::randn({11, 6}));
    a = register_module("a", torch::nn::Linear(6, 32));
    b = register_module("b", torch::nn::Linear(32, 32));
    c = register_module("c", torch::nn::Linear(32, 6));
  }
  torch::Tensor loss(const torch::Tensor& ids) {
    auto h = table.index_select(0, ids);
    h = c(torch::tanh(b(torch::tanh(a(h)))));
    return torch::nn::functional::cross_entropy(torch::matmul(h, table.t()), (ids + 1) % 11);
  }
};
TORCH_MODULE(Net);

struct Grads {
  std::vector<torch::Tensor> reduced, flat;  // through the reducer; through one allreduce_mean
  int buckets = 0, started_during_backward = 0;
};

// Each rank: the same weights (seed 0), its own data; 2 micro-batches per step, 2 steps.
Grads run_rank(int rank, int port, std::int64_t bucket_bytes) {
  dist::LaunchEnv env;
  env.rank = rank, env.world_size = 2, env.master_addr = "127.0.0.1", env.master_port = port, env.launcher = "test";
  dist::ProcessGroup pg(env, 20s);
  // The ranks are threads, and torch's default generator is one for the process: the weights are
  // drawn under a lock, the data from a generator of each rank's own.
  static std::mutex init;
  Net net{nullptr};
  {
    std::lock_guard<std::mutex> lock(init);
    torch::manual_seed(0);
    net = Net();
  }
  auto params = net->parameters();
  at::Generator gen;
  auto micro_ids = [&](int micro) {
    return torch::randint(11, {7 + rank + micro}, gen, torch::TensorOptions().dtype(torch::kLong));
  };
  Grads out;
  {
    dist::GradReducer reducer(pg, params, bucket_bytes);
    out.buckets = reducer.buckets();
    for (int step = 0; step < 2; ++step) {
      gen = at::detail::createCPUGenerator(100 * rank + 10 * step);
      for (auto& p : params) p.mutable_grad() = torch::Tensor();
      for (int micro = 0; micro < 2; ++micro) {
        if (micro == 1) reducer.arm();
        net->loss(micro_ids(micro)).backward();
      }
      reducer.finish();
      out.started_during_backward = reducer.started_during_backward();
    }
    for (auto& p : params) out.reduced.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  }
  // The same last step again, reduced the old way: one flat all-reduce after the backward pass.
  gen = at::detail::createCPUGenerator(100 * rank + 10);
  for (auto& p : params) p.mutable_grad() = torch::Tensor();
  for (int micro = 0; micro < 2; ++micro) net->loss(micro_ids(micro)).backward();
  std::vector<torch::Tensor> defined;
  for (auto& p : params)
    if (p.grad().defined()) defined.push_back(p.grad());
  pg.allreduce_mean(defined);
  for (auto& p : params) out.flat.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  pg.barrier();
  return out;
}

std::pair<Grads, Grads> run_pair(std::int64_t bucket_bytes) {
  const int port = free_port();
  auto r0 = std::async(std::launch::async, run_rank, 0, port, bucket_bytes);
  auto r1 = std::async(std::launch::async, run_rank, 1, port, bucket_bytes);
  EXPECT_EQ(r0.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(r1.wait_for(60s), std::future_status::ready);
  return {r0.get(), r1.get()};
}

void expect_same_as_flat(const Grads& g) {
  ASSERT_EQ(g.reduced.size(), g.flat.size());
  for (std::size_t k = 0; k < g.flat.size(); ++k) {
    ASSERT_EQ(g.reduced[k].defined(), g.flat[k].defined()) << "parameter " << k;
    if (g.flat[k].defined()) EXPECT_TRUE(torch::equal(g.reduced[k], g.flat[k])) << "parameter " << k;
  }
}

}  // namespace

TEST(GradReducer, SmallBucketsStartDuringBackwardAndGiveTheFlatAllReducesGradients) {
  // 600 bytes: most parameters get a bucket of their own.
  auto [g0, g1] = run_pair(600);
  EXPECT_EQ(g0.buckets, 7);
  // Every bucket but the last, which holds the input table (its gradient is complete only at the
  // very end) and the unused layer (never reached; finish() sends it), started before finish().
  EXPECT_EQ(g0.started_during_backward, 6);
  EXPECT_LT(g0.started_during_backward, g0.buckets);
  expect_same_as_flat(g0);
  expect_same_as_flat(g1);
  for (std::size_t k = 0; k < g0.reduced.size(); ++k)
    if (g0.reduced[k].defined()) EXPECT_TRUE(torch::equal(g0.reduced[k], g1.reduced[k])) << "parameter " << k;
  // The unused layer's weight and bias were never given a gradient, and are not given one now.
  EXPECT_FALSE(g0.reduced[1].defined());  // parameters(): the table, then unused, a, b, c
  EXPECT_FALSE(g0.reduced[2].defined());
}

TEST(GradReducer, OneBucketStartsOnlyAtTheEnd) {
  auto [g0, g1] = run_pair(0);
  EXPECT_EQ(g0.buckets, 1);
  EXPECT_EQ(g0.started_during_backward, 0);
  expect_same_as_flat(g0);
  expect_same_as_flat(g1);
}
