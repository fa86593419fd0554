// Shared helpers for the model tests: tiny configurations and weights that make numerical checks
// meaningful (GPT-2's init has near-zero biases and unit LayerNorm gains, which would hide bugs
// in those terms).
#pragma once
#include <torch/torch.h>

#include <string>

#include "model/gpt.h"

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
  GPT m(c);
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

}  // namespace structlm::model::testing
