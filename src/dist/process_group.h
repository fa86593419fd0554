// A data-parallel process group on torch's own c10d (issue 17): rank 0 serves a TCPStore at
// MASTER_ADDR:MASTER_PORT, every rank meets there, and collectives run on Gloo (CPU). The c10d
// and Gloo headers stay in process_group.cpp (they need USE_C10D_GLOO and Debian's libgloo-dev).
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <vector>

#include "dist/launch_env.h"

namespace structlm::dist {

class ProcessGroup {
 public:
  // Every rank of `env` calls this; it returns once all have met. A rank that cannot reach the
  // store, or a rendezvous not complete within `timeout`, is an Error naming the address, this
  // rank and the world size. Gloo's network device: the interface in GLOO_SOCKET_IFNAME if set,
  // loopback when MASTER_ADDR is a loopback address, else the one this host's name resolves to.
  ProcessGroup(const LaunchEnv& env, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_; }

  // Each tensor (contiguous, CPU, one dtype) replaced by its mean over the ranks, in place:
  // data-parallel gradients. They travel as one flat buffer, in one collective. An operation not
  // finished within the timeout (a rank died) is an Error.
  void allreduce_mean(std::vector<torch::Tensor>& tensors);
  // Each tensor (contiguous, CPU, one dtype) overwritten in place by rank `root`'s values: one
  // starting point for every rank (DDP's broadcast of the initial weights). One collective.
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();

  // A sum all-reduce of one flat tensor (contiguous, CPU), started now on Gloo's threads and
  // finished by wait(): what lets gradient buckets travel while the backward pass goes on
  // (dist/grad_reducer.h). wait() is an Error naming the operation when a rank stopped or the
  // timeout passed. Every rank must start the same collectives in the same order.
  class Pending {
   public:
    virtual ~Pending() = default;
    virtual void wait() = 0;
  };
  std::unique_ptr<Pending> allreduce_sum_async(torch::Tensor flat);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1;
  std::string where_;  // "ADDR:PORT (rank R of W)" for messages
};

}  // namespace structlm::dist
