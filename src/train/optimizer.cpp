#include "train/optimizer.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "cstde/dependency.h"
#include "train/adamw_kernel.h"

namespace structlm::train {

AdamW::AdamW(std::vector<ParamGroup> groups, std::map<const void*, std::string> names, AdamWOptions opt)
    : opt_(opt) {
  std::set<const void*> seen;
  for (const auto& g : groups) {
    TORCH_CHECK(std::isfinite(g.lr_mult) && g.lr_mult >= 0, "AdamW: a group's lr_mult must be a finite number >= 0");
    for (const auto& p : g.params) {
      auto it = names.find(p.unsafeGetTensorImpl());
      TORCH_CHECK(it != names.end(), "AdamW: a parameter has no name");
      TORCH_CHECK(seen.insert(p.unsafeGetTensorImpl()).second, "AdamW: parameter '", it->second, "' is in two groups");
      // Moments start at zero, created now rather than lazily so state() always has every entry.
      params_.push_back({p, torch::zeros_like(p, torch::MemoryFormat::Contiguous),
                         torch::zeros_like(p, torch::MemoryFormat::Contiguous), it->second, g.decay, g.lr_mult});
    }
  }
}

AdamW::AdamW(std::vector<torch::Tensor> decay, std::vector<torch::Tensor> no_decay,
             std::map<const void*, std::string> names, AdamWOptions opt)
    : AdamW(std::vector<ParamGroup>{{std::move(decay), true, 1.0}, {std::move(no_decay), false, 1.0}}, std::move(names),
            opt) {}

void AdamW::step(double lr, const torch::Tensor& grad_scale) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double b1 = opt_.beta1, b2 = opt_.beta2;
  // Bias corrections: the moments start at zero, so early averages are too small by these factors.
  const double bc1 = 1.0 - std::pow(b1, double(step_));
  const double bc2 = 1.0 - std::pow(b2, double(step_));
  const double bc2_sqrt = std::sqrt(bc2);
  // The fused loop takes the scale as a float scalar: read it once (a host sync only off the CPU,
  // where the fused loop does not run anyway).
  double scale_value = 1.0;
  bool scale_read = false;
  for (auto& s : params_) {
    torch::Tensor g = s.p.grad();
    if (!g.defined()) continue;
    // Decoupled weight decay: shrink the weights directly, outside the adaptive update, so the
    // decay does not get divided by the gradient's running scale (the "W" in AdamW).
    // The group's learning rate; with lr_mult 1 exactly `lr`, so the plain update is unchanged bit for bit.
    const double group_lr = lr * s.lr_mult;
    const double step_size = group_lr / bc1;
    const double decay = s.decay && opt_.weight_decay != 0 ? 1.0 - group_lr * opt_.weight_decay : 1.0;
    if (fused_ && adamw_fusable(s.p, g, s.exp_avg, s.exp_avg_sq) &&
        (!grad_scale.defined() || grad_scale.device().is_cpu())) {
      if (grad_scale.defined() && !scale_read) {
        scale_value = grad_scale.to(torch::kFloat).item<float>();
        scale_read = true;
      }
      adamw_fused(s.p, g, s.exp_avg, s.exp_avg_sq, {b1, b2, opt_.eps, decay, step_size, bc2_sqrt, scale_value});
      continue;
    }
    if (grad_scale.defined()) g = g * grad_scale;
    if (decay != 1.0) s.p.mul_(decay);
    s.exp_avg.mul_(b1).add_(g, 1.0 - b1);
    s.exp_avg_sq.mul_(b2).addcmul_(g, g, 1.0 - b2);
    torch::Tensor denom = (s.exp_avg_sq.sqrt() / bc2_sqrt).add_(opt_.eps);
    s.p.addcdiv_(s.exp_avg, denom, -step_size);
  }
}

void AdamW::zero_grad() {
  for (auto& s : params_) s.p.mutable_grad() = torch::Tensor();
}

std::map<std::string, torch::Tensor> AdamW::state() const {
  std::map<std::string, torch::Tensor> out;
  for (const auto& s : params_) {
    out["optim.exp_avg." + s.name] = s.exp_avg;
    out["optim.exp_avg_sq." + s.name] = s.exp_avg_sq;
  }
  out["optim.step"] = torch::tensor({step_}, torch::kInt64);
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& tensors, const std::string& path) {
  torch::NoGradGuard no_grad;
  auto get = [&](const std::string& key, const torch::Tensor& like) -> const torch::Tensor& {
    auto it = tensors.find(key);
    if (it == tensors.end()) fail(path, "optimizer tensor '" + key + "' is missing");
    if (like.defined()) {
      if (it->second.sizes() != like.sizes())
        fail(path, "optimizer tensor '" + key + "' has shape " + c10::str(it->second.sizes()) + ", expected " +
                       c10::str(like.sizes()));
      if (it->second.scalar_type() != like.scalar_type())
        fail(path, "optimizer tensor '" + key + "' is " + std::string(c10::toString(it->second.scalar_type())) +
                       ", expected " + std::string(c10::toString(like.scalar_type())));
    }
    return it->second;
  };
  const torch::Tensor& st = get("optim.step", torch::Tensor());
  if (st.scalar_type() != torch::kInt64 || st.numel() != 1)
    fail(path, "optimizer tensor 'optim.step' must hold one int64");
  step_ = st.item<std::int64_t>();
  for (auto& s : params_) {
    s.exp_avg.copy_(get("optim.exp_avg." + s.name, s.exp_avg));
    s.exp_avg_sq.copy_(get("optim.exp_avg_sq." + s.name, s.exp_avg_sq));
  }
}

std::vector<ParamGroup> param_groups(const std::vector<torch::Tensor>& decay, const std::vector<torch::Tensor>& no_decay,
                                     const std::map<const void*, std::string>& names, const model::CstdeConfig& cstde) {
  ParamGroup plain_decay{{}, true, 1.0}, plain_no_decay{{}, false, 1.0};
  ParamGroup uv{{}, cstde.decay_uv, cstde.lr_mult}, gates{{}, false, cstde.lr_mult};
  auto is_cstde = [&](const torch::Tensor& p) {
    auto it = names.find(p.unsafeGetTensorImpl());
    TORCH_CHECK(it != names.end(), "param_groups: a parameter has no name");
    return cstde::is_cstde_parameter(it->second);
  };
  for (const auto& p : decay) (is_cstde(p) ? uv : plain_decay).params.push_back(p);
  for (const auto& p : no_decay) (is_cstde(p) ? gates : plain_no_decay).params.push_back(p);
  std::vector<ParamGroup> out;
  for (auto* g : {&plain_decay, &plain_no_decay, &uv, &gates})
    if (!g->params.empty()) out.push_back(std::move(*g));
  return out;
}

torch::Tensor global_grad_norm(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  if (norms.empty()) return torch::zeros({});
  return torch::stack(norms).norm(2);
}

torch::Tensor clip_scale(const torch::Tensor& norm, double max_norm) {
  if (max_norm <= 0) return {};
  torch::NoGradGuard no_grad;
  // clamp instead of `if (coef < 1)`: no device-to-host sync, and scaling by exactly 1.0 is a
  // no-op bit for bit.
  return (max_norm / (norm + 1e-6)).clamp_max(1.0);
}

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  torch::Tensor total = global_grad_norm(params);
  torch::Tensor coef = clip_scale(total, max_norm);
  if (coef.defined())
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef);
  return total;
}

}  // namespace structlm::train
