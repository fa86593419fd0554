#include "cstde/prior_use.h"

#include <functional>
#include <utility>
#include <vector>

#include "cstde/dependency.h"

namespace structlm::cstde {

namespace {

// One layer's gates beta [heads] and key prior (either undefined/null without CSTDE attention).
using LayerPrior = std::pair<torch::Tensor, std::shared_ptr<model::KeyPriorImpl>>;

// The measures of PriorUse from the layers' gates and scorers, and `trace_of`, which runs the
// model's forward with a trace on ids.
PriorUse measure(const std::vector<LayerPrior>& layers, const torch::Tensor& ids,
                 const std::function<void(model::ForwardTrace&)>& trace_of) {
  torch::NoGradGuard no_grad;
  PriorUse out;
  double beta_sum = 0, gamma_sum = 0;
  std::int64_t heads = 0, carrying = 0;
  for (const auto& [beta, prior] : layers) {
    if (!beta.defined()) continue;
    beta_sum += beta.abs().sum().item<double>();
    heads += beta.numel();
    if (auto scorer = std::dynamic_pointer_cast<DependencyScorerImpl>(prior)) {
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
    trace_of(trace);
    const auto D = trace.dependency.back().to(torch::kDouble);  // [B, T, T], zero above the diagonal
    // 0 log 0 = 0: xlogy is 0 where D is 0.
    out.d_entropy = (-torch::xlogy(D, D).sum(-1)).mean().item<double>();
  }
  return out;
}

}  // namespace

PriorUse prior_use(model::GPTImpl& net, const torch::Tensor& ids) {
  std::vector<LayerPrior> layers;
  for (auto& block : net.blocks) layers.emplace_back(block->attn->dep_beta, block->dep);
  return measure(layers, ids, [&](model::ForwardTrace& t) { net.forward(ids, nullptr, &t); });
}

PriorUse prior_use(model::LlamaForCausalLMImpl& net, const torch::Tensor& ids) {
  std::vector<LayerPrior> layers;
  for (auto& block : net.model->blocks) layers.emplace_back(block->self_attn->dep_beta, block->dep);
  return measure(layers, ids, [&](model::ForwardTrace& t) { net.forward(ids, nullptr, &t); });
}

}  // namespace structlm::cstde
