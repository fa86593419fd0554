// Evaluation and sampling run the model in eval mode (no dropout) without gradients, and must
// leave a model that was training still training.
#pragma once
#include <torch/torch.h>

#include "model/gpt.h"

namespace structlm::eval {

class EvalGuard {
 public:
  explicit EvalGuard(model::GPT& m) : model_(m), was_training_(m->is_training()) { model_->eval(); }
  ~EvalGuard() { model_->train(was_training_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  model::GPT& model_;
  bool was_training_;
  torch::NoGradGuard no_grad_;
};

}  // namespace structlm::eval
