#include "dist/grad_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <functional>
#include <set>

#include "core/error.h"

namespace structlm::dist {

namespace {

// Runs after a parameter's AccumulateGrad node: its .grad() then holds every contribution of the
// backward pass (autograd sums a leaf's incoming gradients before that node runs, once).
struct ReadyHook : torch::autograd::FunctionPostHook {
  std::function<void()> on_ready;
  explicit ReadyHook(std::function<void()> f) : on_ready(std::move(f)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    on_ready();
    return outputs;
  }
};

std::int64_t bytes_of(const torch::Tensor& p) { return p.numel() * std::int64_t(sizeof(float)); }

}  // namespace

GradReducer::GradReducer(ProcessGroup& group, const std::vector<torch::Tensor>& params, std::int64_t bucket_bytes)
    : group_(group) {
  std::set<const void*> seen;  // a tied weight is one parameter
  for (const auto& p : params) {
    if (!p.requires_grad() || !seen.insert(p.unsafeGetTensorImpl()).second) continue;
    if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat32)
      throw Error("dist: data-parallel gradients are fp32 CPU tensors (Gloo); got " + std::string(p.toString()));
    params_.push_back(p);
  }
  // Reverse order: the backward pass reaches the last layers first.
  bucket_of_.resize(params_.size());
  std::int64_t fill = 0;
  for (std::size_t k = params_.size(); k-- > 0;) {
    if (buckets_.empty() || (bucket_bytes > 0 && fill > 0 && fill + bytes_of(params_[k]) > bucket_bytes)) {
      buckets_.emplace_back();
      fill = 0;
    }
    buckets_.back().members.push_back(k);
    bucket_of_[k] = buckets_.size() - 1;
    fill += bytes_of(params_[k]);
  }
  for (auto& b : buckets_) {
    std::int64_t n = 0;
    for (std::size_t k : b.members) n += params_[k].numel();
    b.flat = torch::empty({n}, torch::kFloat32);
  }
  for (std::size_t k = 0; k < params_.size(); ++k) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[k]);
    hook_keys_.push_back(acc->add_post_hook(std::make_unique<ReadyHook>([this, k] { ready(k); })));
    accumulators_.push_back(std::move(acc));
  }
}

GradReducer::~GradReducer() {
  for (std::size_t k = 0; k < accumulators_.size(); ++k) accumulators_[k]->del_post_hook(hook_keys_[k]);
}

std::int64_t GradReducer::largest_bucket_bytes() const {
  std::int64_t m = 0;
  for (const auto& b : buckets_) m = std::max<std::int64_t>(m, b.flat.numel() * std::int64_t(sizeof(float)));
  return m;
}

void GradReducer::arm() {
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  next_ = 0;
  started_during_backward_ = 0;
  for (auto& b : buckets_) {
    b.waiting = int(b.members.size());
    b.pending.reset();
  }
}

void GradReducer::ready(std::size_t param) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!armed_) return;  // an earlier micro-batch: gradients still accumulating
  --buckets_[bucket_of_[param]].waiting;
  while (next_ < buckets_.size() && buckets_[next_].waiting == 0) {
    start(buckets_[next_++]);
    ++started_during_backward_;
  }
}

// Copies the members' gradients into the staging buffer (zeros for a parameter the pass did not
// reach, on every rank alike) and starts its all-reduce.
void GradReducer::start(Bucket& b) {
  torch::NoGradGuard no_grad;
  std::int64_t offset = 0;
  for (std::size_t k : b.members) {
    const auto& p = params_[k];
    auto slot = b.flat.slice(0, offset, offset + p.numel());
    const torch::Tensor& g = p.grad();
    if (g.defined())
      slot.copy_(g.reshape(-1));
    else
      slot.zero_();
    offset += p.numel();
  }
  b.pending = group_.allreduce_sum_async(b.flat);
}

double GradReducer::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!armed_) throw std::logic_error("dist::GradReducer::finish without arm()");
  while (next_ < buckets_.size()) start(buckets_[next_++]);
  armed_ = false;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& b : buckets_) b.pending->wait();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    b.pending.reset();
    b.flat.div_(double(group_.world_size()));
    std::int64_t offset = 0;
    for (std::size_t k : b.members) {
      auto& p = params_[k];
      if (p.grad().defined()) p.mutable_grad().copy_(b.flat.slice(0, offset, offset + p.numel()).view_as(p));
      offset += p.numel();
    }
  }
  return waited;
}

}  // namespace structlm::dist
