// Data-parallel gradient averaging overlapped with the backward pass: DDP's scheme, on our
// process group (issue 17). The parameters are cut into buckets of about `bucket_bytes`, in
// reverse order, the order in which the backward pass produces their gradients. During the
// backward pass whose gradients are final (the step's last micro-batch), a hook on each
// parameter's gradient accumulator marks it ready, and a bucket whose gradients are all ready
// starts its all-reduce on Gloo's threads at once, while autograd goes on with the layers below.
// finish() waits for the buckets still travelling and writes the means back.
//
// Every rank starts the same buckets in the same order (Gloo pairs collectives by order): a bucket
// starts only after every bucket before it has. The sums are those of one flat all-reduce, element
// by element, so the update is the same as before (bit for bit at two ranks: a + b has one order).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "dist/process_group.h"

namespace structlm::dist {

class GradReducer {
 public:
  // `params`: the trained parameters, in the model's order (duplicates and parameters that need no
  // gradient are left out). bucket_bytes <= 0: one bucket, so nothing starts before the backward
  // pass ends (the same as one flat all-reduce after it).
  GradReducer(ProcessGroup& group, const std::vector<torch::Tensor>& params, std::int64_t bucket_bytes);
  ~GradReducer();  // removes its hooks
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Call before the backward pass that completes the step's gradients; earlier micro-batches'
  // backward passes only accumulate.
  void arm();
  // After that backward pass: starts the buckets not started yet (parameters the pass gave no
  // gradient), waits for all, replaces each gradient by its mean over the ranks. Returns the
  // seconds spent waiting here: the all-reduce time the backward pass did not hide.
  double finish();

  int buckets() const { return int(buckets_.size()); }
  // Of the last step's buckets, how many started while the backward pass was still running.
  int started_during_backward() const { return started_during_backward_; }
  std::int64_t largest_bucket_bytes() const;

 private:
  struct Bucket {
    std::vector<std::size_t> members;  // indices into params_
    torch::Tensor flat;                // fp32 staging buffer, all members' gradients end to end
    int waiting = 0;                   // members whose gradient is not ready yet
    std::unique_ptr<ProcessGroup::Pending> pending;
  };
  void ready(std::size_t param);  // the hook
  void start(Bucket& b);

  ProcessGroup& group_;
  std::vector<torch::Tensor> params_;
  std::vector<std::size_t> bucket_of_;  // per parameter
  std::vector<Bucket> buckets_;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;  // kept alive, so the hooks stay
  std::vector<std::uintptr_t> hook_keys_;
  std::mutex mu_;
  bool armed_ = false;
  std::size_t next_ = 0;  // the first bucket not started
  int started_during_backward_ = 0;
};

}  // namespace structlm::dist
