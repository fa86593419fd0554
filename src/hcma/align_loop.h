// The loop every trained method runs: Adam (or table-normalised SGD, `optimizer`) on E only (the
// rest of the model is a frozen copy, the output matrix included), cosine learning-rate decay to a
// tenth, each term logged (progress line, JSONL log, the report's "log" and time_s.loop). A method
// adds its terms through hooks: autograd terms backpropagate into E (the LM loss, cosreg); direct
// terms add their gradient themselves (HCMA's objective, too costly as a graph over the whole
// table); constraints act on the gradient before and on E after each step (HCMA's frozen rows and
// trust region). With checkpoint_every, the loop's whole state is written atomically next to the
// log and a rerun with the same options and source resumes from it, bit for bit.
#pragma once
#include <ATen/core/Generator.h>
#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hcma/align_method.h"
#include "zoo/zoo.h"

namespace structlm::hcma {

// The loop's state, as the hooks see it.
struct LoopState {
  explicit LoopState(AlignRun& r) : run(r) {}
  AlignRun& run;
  zoo::LoadedModel net;            // E⁰'s model, untied (empty unless uses_lm()); the LM term feeds it `param`
  torch::Tensor param;             // E being optimised, on the model's device
  at::Generator gen;               // the loop's randomness (noise, HCMA's token batches), from options.seed
  std::vector<std::int64_t> batch; // one LM batch of [batch_size, block_size + 1] ids
  double mean_norm = 0;            // mean row norm of E⁰
  int step = 0;
};

// The table's optimiser (LoopOptions::optimizer), with the state a checkpoint carries.
//  - "adam": torch::optim::Adam (β = 0.9, 0.999, ε = 1e-8): every entry's step is normalised by
//    its own gradient history, so every row moves about lr per step whatever its gradient's size.
//  - "sgd": SGD with momentum: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)·mean(g²) (ONE scalar for the
//    whole table), E ← E − lr · m̂ / (√v̂ + ε) with Adam's bias corrections. The scalar only sets
//    the units (lr keeps Adam's meaning for the table's RMS step); each row's step is proportional
//    to its own gradient, so a term's weight (HCMA's ρ_t) scales how far a row moves.
class TableOptimizer {
 public:
  virtual ~TableOptimizer() = default;
  virtual void zero_grad() = 0;
  virtual void step(double lr) = 0;  // from param.grad()
  virtual void save(torch::serialize::OutputArchive& a) const = 0;
  virtual void load(torch::serialize::InputArchive& a) = 0;
};
std::unique_ptr<TableOptimizer> make_table_optimizer(const std::string& name, torch::Tensor param);

// The checkpoint file of a loop whose JSONL log is `log_path`: loop_state.pt beside it.
std::string loop_checkpoint_path(const std::string& log_path);

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
  // Around the optimiser's step: on the whole gradient (s.param.grad(), on E's device) before it,
  // and on E (s.param, no graph) after it. None by default.
  virtual void constrain_gradient(LoopState& s) {}
  virtual void constrain_table(LoopState& s) {}
  // After the loop, with the final table.
  virtual void finish(AlignRun& run, const torch::Tensor& E) {}
};

}  // namespace structlm::hcma
