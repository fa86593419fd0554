// The model's plug for a per-layer prior over keys: a module that, given a layer's LayerNorm'd
// input, returns for every query a distribution D over the positions it may attend to, which the
// layer's heads add to their logits as beta_h * log(D + eps) (model/log_prior.h). D is carried
// from layer to layer: each layer sees the previous layer's D.
//
// CSTDE's dependency scorer (cstde/dependency.h, METHODS.md §1b) is the one prior in this project.
// The model owns only this interface, so src/model/ includes nothing from a method folder; models
// are assembled with their priors by zoo::make_gpt / zoo::load_model (src/zoo/).
#pragma once
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "model/config.h"

namespace structlm::model {

struct KVCache;

class KeyPriorImpl : public torch::nn::Module {
 public:
  ~KeyPriorImpl() override = default;
  // x: [B, T, C], positions past .. past + T - 1 (past = what the cache already holds).
  // prev: the previous layer's D for the same queries [B, T, past + T]; undefined in the first
  // layer. Returns this layer's D: [B, T, past + T], rows sum to 1, zero above the diagonal.
  // A prior that needs per-key state for incremental decoding keeps it in cache->dep_v[layer].
  virtual torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& prev, KVCache* cache, int layer) = 0;
  // The prior's deterministic starting values (CSTDE: model.cstde.prior_init), set by
  // init_gpt2_weights after the model's random draws; must draw nothing from any generator.
  virtual void init_parameters() {}
};

// Builds layer `layer`'s prior for a model of config `c`. Registered under the block's name
// "dep", so the prior's parameters are h.N.dep.* in checkpoints.
using KeyPriorFactory = std::function<std::shared_ptr<KeyPriorImpl>(const GPTConfig& c, int layer)>;

// Whether a GPT parameter belongs to the key prior path rather than the plain transformer: the
// priors' own h.N.dep.* and the heads' weights on them, h.N.attn.dep_beta. Every other tensor is
// shared by every variant (init_gpt2_weights draws those first), and the trainer gives these
// their own learning-rate multiplier and decay rule (cstde::is_cstde_parameter).
inline bool is_key_prior_parameter(const std::string& name) {
  return name.find(".dep.") != std::string::npos || name.find("dep_beta") != std::string::npos;
}

}  // namespace structlm::model
