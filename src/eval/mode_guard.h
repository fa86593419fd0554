// Evaluation and sampling run the model in eval mode (no dropout) without gradients, and must
// leave a model that was training still training.
#pragma once
#include <torch/torch.h>

#include "model/causal_lm.h"

namespace structlm::eval {

class EvalGuard {
 public:
  explicit EvalGuard(torch::nn::Module& m) : model_(m), was_training_(m.is_training()) { model_.eval(); }
  explicit EvalGuard(model::CausalLM& m) : EvalGuard(m.module()) {}
  template <class Holder, class = decltype(std::declval<Holder&>().ptr())>
  explicit EvalGuard(Holder& m) : EvalGuard(static_cast<torch::nn::Module&>(*m)) {}
  ~EvalGuard() { model_.train(was_training_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  torch::nn::Module& model_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

}  // namespace structlm::eval
