// How much a CSTDE model uses its dependency prior, read off the model (issue 14: "log beta,
// gamma and the entropy of D over training"): without these a variant whose beta stayed near 0
// looks like a failure of the prior rather than a prior the model did not learn to use.
#pragma once
#include <torch/torch.h>

#include <optional>

#include "model/gpt.h"
#include "model/llama.h"

namespace structlm::cstde {

struct PriorUse {
  std::optional<double> prior_weight;  // mean |beta_h| over layers and heads (models with D)
  std::optional<double> carry_gate;    // mean gamma_l over the layers that carry
  std::optional<double> d_entropy;     // mean entropy (nats) of the last layer's rows of D on `ids`
};

// From the parameters; d_entropy only when `ids` is defined and the model has D (one forward, no
// gradient, in whatever mode and autocast the caller set). Row i of D spreads over i + 1 keys,
// so a uniform D has mean entropy mean_i log(i + 1) and a one-hot D 0. The same measures for
// either architecture.
PriorUse prior_use(model::GPTImpl& net, const torch::Tensor& ids = {});
PriorUse prior_use(model::LlamaForCausalLMImpl& net, const torch::Tensor& ids = {});

}  // namespace structlm::cstde
