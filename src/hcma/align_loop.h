// The loop every trained method runs: Adam on E only (the rest of the model is a frozen copy, the
// output matrix included), cosine learning-rate decay to a tenth, each term logged (progress
// line, JSONL log, the report's "log" and time_s.loop). A method adds its terms through hooks:
// autograd terms backpropagate into E (the LM loss, cosreg); direct terms add their gradient
// themselves (HCMA's objective, too costly as a graph over the whole table).
#pragma once
#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hcma/align_method.h"

namespace structlm::hcma {

// The loop's state, as the hooks see it.
struct LoopState {
  explicit LoopState(AlignRun& r) : run(r) {}
  AlignRun& run;
  model::GPT net{nullptr};         // E⁰'s model with `param` as its input (null unless uses_lm())
  torch::Tensor param;             // E being optimised, on the model's device
  at::Generator gen;               // the loop's randomness (noise, HCMA's token batches), from options.seed
  std::vector<std::int64_t> batch; // one LM batch of [batch_size, block_size + 1] ids
  double mean_norm = 0;            // mean row norm of E⁰
  int step = 0;
};

// The LM loss on step's calibration batch through the frozen model, embedded from `param`; with
// `noise`, a Gaussian direction of norm noise × mean row norm on every input embedding.
torch::Tensor lm_loss(LoopState& s, std::optional<double> noise = std::nullopt);

class TrainedMethod : public AlignMethod {
 public:
  bool deterministic() const final { return false; }
  torch::Tensor align(AlignRun& run) final;

 protected:
  // Before the loop; by default the calibration counts (HCMA: its statistics and hierarchy).
  virtual void prepare(AlignRun& run);
  // One step's terms with a graph to s.param, backpropagated together.
  virtual std::map<std::string, torch::Tensor> autograd_terms(LoopState& s) = 0;
  // After the autograd terms: terms that add their gradient into `grad` ([V, d], CPU) directly,
  // and their values (computed only when `logged`, where that costs). None by default.
  virtual bool has_direct_terms() const { return false; }
  virtual std::map<std::string, double> direct_terms(LoopState& s, torch::Tensor& grad, bool logged) { return {}; }
  // After the loop, with the final table.
  virtual void finish(AlignRun& run, const torch::Tensor& E) {}
};

}  // namespace structlm::hcma
