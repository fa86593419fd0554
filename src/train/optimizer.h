// AdamW written out (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with
// parameter groups (decay or not, and a learning-rate multiplier each), and global-norm gradient
// clipping. Written out rather than torch::optim::AdamW so that its state is plain named tensors
// that go into a checkpoint and come back bit for bit, the same on libtorch 1.13 and 2.x. The
// arithmetic is torch's AdamW's; on contiguous fp32 CPU parameters it runs as one fused pass per
// parameter (train/adamw_kernel.h), with gradient clipping's scale folded in (within an ulp or so
// of the unfused ops).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/config.h"

namespace structlm::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  double weight_decay = 0.1;  // applied to the decay groups only
};

// Parameters that share a decay rule and a learning-rate multiplier: a group's parameters are
// updated with learning rate lr * lr_mult, and its decay (when on) shrinks them by
// 1 - lr * lr_mult * weight_decay, as torch's per-group lr does. A multiplier of 1 is the plain
// update bit for bit.
struct ParamGroup {
  std::vector<torch::Tensor> params;
  bool decay = false;
  double lr_mult = 1;
};

class AdamW {
 public:
  // `names` maps every parameter (by TensorImpl) to a stable name for the checkpoint; every group
  // must be covered by it, and a parameter may be in one group only. The state (and so the
  // checkpoint) is by name: which group a parameter is in does not show in it.
  AdamW(std::vector<ParamGroup> groups, std::map<const void*, std::string> names, AdamWOptions opt);
  // Two groups, lr_mult 1: `decay` and `no_decay`.
  AdamW(std::vector<torch::Tensor> decay, std::vector<torch::Tensor> no_decay,
        std::map<const void*, std::string> names, AdamWOptions opt);

  // One update with learning rate `lr`; parameters without a gradient are left alone.
  // `grad_scale` (a 0-dim tensor, from clip_scale) multiplies every gradient first; the
  // gradients themselves are not modified.
  void step(double lr, const torch::Tensor& grad_scale = {});
  // The unfused torch ops only (for tests and the bench comparing the two).
  void set_fused(bool fused) { fused_ = fused; }
  void zero_grad();  // drops the gradients (undefined, not zero-filled)
  std::int64_t steps() const { return step_; }

  // "optim.exp_avg.<name>", "optim.exp_avg_sq.<name>" and "optim.step" (int64 [1]).
  std::map<std::string, torch::Tensor> state() const;
  // Restores what state() wrote; errors name `path` and the missing or misshapen tensor.
  void load_state(const std::map<std::string, torch::Tensor>& tensors, const std::string& path);

 private:
  struct Param {
    torch::Tensor p, exp_avg, exp_avg_sq;
    std::string name;
    bool decay;
    double lr_mult;
  };
  std::vector<Param> params_;
  AdamWOptions opt_;
  std::int64_t step_ = 0;
  bool fused_ = true;
};

// AdamW's groups for a model whose parameters come as the model's `decay` (matrices, embeddings)
// and `no_decay` (biases, LayerNorm) lists: CSTDE's own parameters (h.N.dep.*, h.N.attn.dep_beta;
// cstde::is_cstde_parameter) are taken out of them into groups of their own with
// model.cstde.lr_mult, U and V decaying only with model.cstde.decay_uv, beta, gamma and the
// distance bias never (docs/CSTDE.md). Without CSTDE parameters: the two lists as given. Groups
// that would be empty are left out.
std::vector<ParamGroup> param_groups(const std::vector<torch::Tensor>& decay, const std::vector<torch::Tensor>& no_decay,
                                     const std::map<const void*, std::string>& names, const model::CstdeConfig& cstde);

// The global L2 norm of all gradients, as a 0-dim tensor on the gradients' device (no host sync:
// read it only when logging).
torch::Tensor global_grad_norm(const std::vector<torch::Tensor>& params);
// The factor that brings a global gradient norm down to at most `max_norm` (as
// torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6), at most 1); undefined when
// max_norm <= 0 (no clipping). Given to AdamW::step, which applies it while it reads each gradient.
torch::Tensor clip_scale(const torch::Tensor& norm, double max_norm);
// Scales all gradients in place by clip_scale; returns the norm before clipping.
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace structlm::train
