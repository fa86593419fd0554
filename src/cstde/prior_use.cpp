#include "cstde/prior_use.h"

#include "cstde/dependency.h"

namespace structlm::cstde {

PriorUse prior_use(model::GPTImpl& net, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  PriorUse out;
  double beta_sum = 0, gamma_sum = 0;
  std::int64_t heads = 0, carrying = 0;
  for (auto& block : net.blocks) {
    if (!block->attn->dep_beta.defined()) continue;
    beta_sum += block->attn->dep_beta.abs().sum().item<double>();
    heads += block->attn->dep_beta.numel();
    if (auto scorer = std::dynamic_pointer_cast<DependencyScorerImpl>(block->dep)) {
      if (const auto g = scorer->gamma(); g.defined()) {
        gamma_sum += g.item<double>();
        ++carrying;
      }
    }
  }
  if (heads) out.prior_weight = beta_sum / double(heads);
  if (carrying) out.carry_gate = gamma_sum / double(carrying);
  if (heads && ids.defined()) {
    model::ForwardTrace trace;
    net.forward(ids, nullptr, &trace);
    const auto D = trace.dependency.back().to(torch::kDouble);  // [B, T, T], zero above the diagonal
    // 0 log 0 = 0: xlogy is 0 where D is 0.
    out.d_entropy = (-torch::xlogy(D, D).sum(-1)).mean().item<double>();
  }
  return out;
}

}  // namespace structlm::cstde
