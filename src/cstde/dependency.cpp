#include "cstde/dependency.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "cstde/carry_softmax.h"
#include "model/gpt.h"

namespace structlm::cstde {

using model::GPTConfig;
using model::KVCache;

std::int64_t distance_bucket(std::int64_t n, std::int64_t buckets, std::int64_t max_distance) {
  n = std::max<std::int64_t>(n, 0);
  const std::int64_t exact = buckets / 2;
  if (n < exact) return n;
  // Same arithmetic as T5 (float log, truncation), so bucket boundaries match the usual table.
  const double scaled = std::log(double(n) / double(exact)) / std::log(double(max_distance) / double(exact));
  const auto large = exact + std::int64_t(scaled * double(buckets - exact));
  return std::min(large, buckets - 1);
}

bool is_cstde_parameter(const std::string& name) { return model::is_key_prior_parameter(name); }

std::vector<double> log_distance_prior(std::int64_t buckets, std::int64_t max_distance, std::int64_t block_size) {
  std::vector<double> sum(std::size_t(buckets), 0.0);
  std::vector<std::int64_t> count(std::size_t(buckets), 0);
  const std::int64_t n_max = std::max(block_size, max_distance + 1);
  for (std::int64_t n = 0; n < n_max; ++n) {
    const auto k = std::size_t(distance_bucket(n, buckets, max_distance));
    sum[k] -= std::log1p(double(n));
    ++count[k];
  }
  std::vector<double> b(std::size_t(buckets), 0.0);
  for (std::size_t k = 0; k < b.size(); ++k) b[k] = count[k] > 0 ? sum[k] / double(count[k]) : (k > 0 ? b[k - 1] : 0.0);
  return b;
}

DependencyScorerImpl::DependencyScorerImpl(const GPTConfig& c, bool carries)
    : rank_(c.cstde.rank),
      buckets_(c.cstde.buckets),
      max_distance_(c.cstde.max_distance),
      block_size_(c.block_size),
      prior_init_(c.cstde.prior_init) {
  if (c.cstde.scorer == "bilinear") {
    u = register_module("u", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, rank_).bias(false)));
    v = register_module("v", torch::nn::Linear(torch::nn::LinearOptions(c.n_embd, rank_).bias(false)));
  } else if (c.cstde.scorer != "distance") {
    throw std::logic_error("cstde: unknown scorer '" + c.cstde.scorer + "' (the config check lets none through)");
  }
  // A frozen bias stays a parameter (saved, loaded, named) that nothing trains.
  rel_bias = register_parameter("rel_bias", torch::zeros({buckets_}), /*requires_grad=*/c.cstde.prior_trainable);
  if (carries) carry_logit = register_parameter("carry_logit", torch::zeros({1}));  // gamma starts at 1/2
  init_parameters();  // again after the model's draws (init_gpt2_weights), which zero every bias
}

void DependencyScorerImpl::init_parameters() {
  torch::NoGradGuard no_grad;
  if (prior_init_ == "log_distance") {
    const auto b = log_distance_prior(buckets_, max_distance_, block_size_);
    rel_bias.copy_(torch::tensor(b, torch::kFloat64).to(rel_bias.options()));
  } else {
    rel_bias.zero_();
  }
}

torch::Tensor DependencyScorerImpl::gamma() const {
  return carry_logit.defined() ? torch::sigmoid(carry_logit) : torch::Tensor();
}

torch::Tensor DependencyScorerImpl::bias_and_mask(std::int64_t past, std::int64_t T) {
  const auto Tk = past + T;
  if (!bucket_index_.defined() || bucket_index_.size(0) < Tk || bucket_index_.device() != rel_bias.device()) {
    c10::InferenceMode normal_tensor(false);  // usable by autograd even if first built in inference mode
    const auto n = std::max(block_size_, Tk);
    std::vector<std::int64_t> index(n * n, 0);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j <= i; ++j) index[i * n + j] = distance_bucket(i - j, buckets_, max_distance_);
    bucket_index_ = torch::tensor(index, torch::kLong).view({n, n}).to(rel_bias.device());
    upper_mask_ = torch::ones({n, n}, torch::TensorOptions().dtype(torch::kBool).device(rel_bias.device())).triu(1);
  }
  auto idx = bucket_index_.slice(0, past, Tk).slice(1, 0, Tk);
  auto bias = rel_bias.index({idx});  // [T, Tk], differentiable in rel_bias
  return bias.masked_fill(upper_mask_.slice(0, past, Tk).slice(1, 0, Tk), -std::numeric_limits<double>::infinity());
}

torch::Tensor DependencyScorerImpl::forward(const torch::Tensor& x, const torch::Tensor& prev, KVCache* cache,
                                            int layer) {
  const auto B = x.size(0), T = x.size(1);
  // The distance scorer reads no token; it keeps a zero-width key tensor in the cache only to
  // know how many positions came before.
  auto vk = u ? v(x) : x.new_empty({B, T, 0});  // [B, T, r]
  std::int64_t past = 0;
  if (cache) {
    if ((int)cache->dep_v.size() <= layer) cache->dep_v.resize(layer + 1);
    if (cache->dep_v[layer].defined()) {
      past = cache->dep_v[layer].size(1);
      vk = torch::cat({cache->dep_v[layer], vk}, 1);
    }
    cache->dep_v[layer] = vk;
  }
  torch::Tensor s;
  if (u) {
    // baddbmm folds the 1/sqrt(r) scaling, the distance bias and the causal mask into the matmul.
    s = torch::baddbmm(bias_and_mask(past, T), u(x), vk.transpose(1, 2), /*beta=*/1.0,
                       /*alpha=*/1.0 / std::sqrt(double(rank_)));
  } else {
    s = bias_and_mask(past, T).to(x.scalar_type()).unsqueeze(0).expand({B, T, past + T}).contiguous();
  }
  if (!prev.defined() || !carry_logit.defined()) return torch::softmax(s, -1);
  return carried_softmax(s, prev, gamma());  // prev + gamma (softmax(s) - prev), fused (cstde/carry_softmax.h)
}

model::KeyPriorFactory dependency_prior() {
  return [](const GPTConfig& c, int layer) -> std::shared_ptr<model::KeyPriorImpl> {
    return std::make_shared<DependencyScorerImpl>(c, /*carries=*/c.cstde.carry && layer > 0);
  };
}

}  // namespace structlm::cstde
