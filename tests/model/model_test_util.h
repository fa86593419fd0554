// Shared helpers for the model tests: tiny configurations and weights that make numerical checks
// meaningful (GPT-2's init has near-zero biases and unit LayerNorm gains, which would hide bugs
// in those terms).
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "model/gpt.h"
#include "zoo/zoo.h"

namespace structlm::model::testing {

inline GPTConfig tiny_config(bool tied, bool bias, double dropout = 0.0) {
  GPTConfig c;
  c.vocab_size = 13;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.dropout = dropout;
  c.tied = tied;
  c.bias = bias;
  return c;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every trainable parameter gets a random value of a useful size: matrices N(0, matrix_std),
// vectors N(0, 0.1), LayerNorm gains 1 + N(0, 0.2). Frozen parameters (zero LayerNorm biases when
// bias = false) are left alone.
inline void randomize(GPTImpl& m, double matrix_std) {
  torch::NoGradGuard no_grad;
  for (auto& item : m.named_parameters()) {
    auto& p = item.value();
    if (!p.requires_grad()) continue;
    const std::string& name = item.key();
    bool ln_gain = p.dim() == 1 && ends_with(name, "weight");
    if (p.dim() >= 2)
      p.normal_(0.0, matrix_std);
    else if (ln_gain)
      p.normal_(1.0, 0.2);
    else
      p.normal_(0.0, 0.1);
  }
}

// A float64 model with randomized weights, deterministic given the seed.
inline GPT make_model(const GPTConfig& c, std::uint64_t seed, double matrix_std = 0.3,
                      torch::Dtype dtype = torch::kFloat64) {
  torch::manual_seed(seed);
  GPT m = zoo::make_gpt(c);
  m->to(dtype);
  randomize(*m, matrix_std);
  return m;
}

inline torch::Tensor random_tokens(std::int64_t B, std::int64_t T, std::int64_t V, std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(V, {B, T}, torch::kLong);
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Central differences on a sample of entries of every trainable tensor of a float64 model,
// against autograd. With weights of size ~0.3 the gradients are ~1e-2; the difference quotient's
// error (h^2 truncation plus rounding/h) is ~1e-10, so 1e-6 leaves room yet catches any real bug.
// Frozen tensors (zero LayerNorm biases of a bias-free model) are allowed only if `allow_frozen`.
// Returns (tensors checked, worst relative error).
// Any model holder with loss(idx, targets) and named_parameters() (the GPT, the Llama).
template <typename Model>
std::pair<int, double> check_gradients(Model& m, const torch::Tensor& idx, const torch::Tensor& targets,
                                       bool allow_frozen) {
  m->zero_grad();
  m->loss(idx, targets).backward();

  torch::NoGradGuard no_grad;
  auto loss_at = [&] {
    const torch::Tensor loss = m->loss(idx, targets);
    return loss.item<double>();
  };
  const double h = 1e-5, floor = 1e-3;  // floor: relative error of near-zero gradients is noise
  std::mt19937 rng(99);
  double worst = 0;
  int tensors = 0;
  for (auto& item : m->named_parameters()) {
    const std::string name = item.key();
    torch::Tensor p = item.value();
    if (!p.requires_grad()) {
      EXPECT_TRUE(allow_frozen) << name;
      EXPECT_FALSE(p.grad().defined()) << name;
      EXPECT_EQ(p.abs().max().item<double>(), 0.0) << name;
      continue;
    }
    EXPECT_TRUE(p.grad().defined()) << name;
    if (!p.grad().defined()) continue;
    EXPECT_TRUE(p.is_contiguous()) << name;
    ++tensors;
    double* data = p.data_ptr<double>();
    const torch::Tensor grad = p.grad().contiguous();
    const double* g = grad.data_ptr<double>();
    std::vector<std::int64_t> all(p.numel());
    for (std::int64_t i = 0; i < p.numel(); ++i) all[i] = i;
    std::vector<std::int64_t> sample{0};
    if (p.numel() > 1) sample.push_back(p.numel() - 1);
    if (p.numel() > 2) std::sample(all.begin() + 1, all.end() - 1, std::back_inserter(sample), 8, rng);
    for (auto i : sample) {
      const double orig = data[i];
      data[i] = orig + h;
      const double up = loss_at();
      data[i] = orig - h;
      const double down = loss_at();
      data[i] = orig;
      const double fd = (up - down) / (2 * h);
      const double rel = std::abs(fd - g[i]) / std::max({std::abs(fd), std::abs(g[i]), floor});
      worst = std::max(worst, rel);
      EXPECT_LT(rel, 1e-6) << name << "[" << i << "]: finite difference " << fd << ", autograd " << g[i];
    }
  }
  return {tensors, worst};
}

}  // namespace structlm::model::testing
