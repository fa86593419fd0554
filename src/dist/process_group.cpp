#include "dist/process_group.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>

#include "core/error.h"

namespace structlm::dist {

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

namespace {

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (is_loopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

ProcessGroup::ProcessGroup(const LaunchEnv& env, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(env.rank), world_(env.world_size) {
  where_ = env.master_addr + ":" + std::to_string(env.master_port) + " (rank " + std::to_string(rank_) + " of " +
           std::to_string(world_) + ")";
  if (env.master_addr.empty() || env.master_port <= 0) throw Error("dist: no rendezvous address for " + where_);
  try {
    c10d::TCPStoreOptions so;
    so.port = std::uint16_t(env.master_port);
    so.isServer = rank_ == 0;
    so.numWorkers = std::size_t(world_);
    so.waitWorkers = true;  // rank 0 returns once every rank has connected
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->devices.push_back(gloo_device(env.master_addr));
    opts->timeout = timeout;
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank_, world_, opts);
  } catch (const std::exception& e) {
    // c10d's messages hold a C++ backtrace: keep the first line, which says what happened.
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw Error("dist: rendezvous at " + where_ + " failed within " + std::to_string(timeout.count()) + " ms: " + what);
  }
}

ProcessGroup::~ProcessGroup() = default;

namespace {

void check_bucketable(const std::vector<torch::Tensor>& tensors, const char* op) {
  for (const auto& t : tensors)
    if (!t.device().is_cpu() || !t.is_contiguous() || t.scalar_type() != tensors[0].scalar_type())
      throw Error(std::string("dist: ") + op + " takes contiguous CPU tensors of one dtype");
}

// Gloo's collectives take one tensor per device, so many tensors travel as one flat buffer (a
// bucket): one collective instead of one per tensor.
torch::Tensor flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> flat_views;
  for (const auto& t : tensors) flat_views.push_back(t.view(-1));
  return torch::cat(flat_views);
}

void unflatten(const torch::Tensor& bucket, std::vector<torch::Tensor>& tensors) {
  std::int64_t offset = 0;
  for (auto& t : tensors) {
    t.view(-1).copy_(bucket.slice(0, offset, offset + t.numel()));
    offset += t.numel();
  }
}

// Waits for a collective; a failure (a rank left, the timeout passed) is an Error naming it.
void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* op, const std::string& where) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    std::string what = e.what();
    throw Error(std::string("dist: ") + op + " at " + where + " failed (a rank stopped?): " + what.substr(0, what.find('\n')));
  }
}

}  // namespace

void ProcessGroup::allreduce_mean(std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  check_bucketable(tensors, "allreduce_mean");
  std::vector<torch::Tensor> bucket = {flatten(tensors)};
  wait(impl_->group->allreduce(bucket), "all-reduce", where_);
  bucket[0].div_(double(world_));
  unflatten(bucket[0], tensors);
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  check_bucketable(tensors, "broadcast");
  if (root < 0 || root >= world_) throw Error("dist: broadcast from rank " + std::to_string(root) + " outside " + where_);
  std::vector<torch::Tensor> bucket = {flatten(tensors)};
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  wait(impl_->group->broadcast(bucket, opts), "broadcast", where_);
  unflatten(bucket[0], tensors);
}

namespace {

struct GlooPending : ProcessGroup::Pending {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<torch::Tensor> tensors;  // kept alive until the collective is done
  std::string where;
  void wait() override { structlm::dist::wait(work, "all-reduce", where); }
};

}  // namespace

std::unique_ptr<ProcessGroup::Pending> ProcessGroup::allreduce_sum_async(torch::Tensor flat) {
  check_bucketable({flat}, "allreduce_sum_async");
  auto p = std::make_unique<GlooPending>();
  p->tensors = {std::move(flat)};
  p->where = where_;
  p->work = impl_->group->allreduce(p->tensors);
  return p;
}

void ProcessGroup::barrier() { wait(impl_->group->barrier(), "barrier", where_); }

}  // namespace structlm::dist
