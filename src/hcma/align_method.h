// The alignment methods behind one interface, built by name (docs/HCMA.md): the closed-form ones
// (abtt, whiten; shrink after HCMA's statistics and hierarchy) map E⁰ to E in one call; the trained ones (emb-finetune, emb-noise, cosreg,
// hcma) share the Adam loop of hcma/align_loop.h and add their terms to it. align_embeddings
// (hcma/align.h) prepares an AlignRun and asks the method for the new table; the HCMA experiment
// asks it whether one result serves every seed.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hcma/align_options.h"
#include "hcma/context_stats.h"
#include "hcma/hierarchy.h"
#include "core/json.h"
#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/precision.h"

namespace structlm::hcma {

// What align_embeddings hands a method, and what the method leaves for the report.
struct AlignRun {
  model::CausalLM& model;          // the trained model (any architecture), unchanged
  const data::TokenStream& calib;  // the calibration token stream
  const AlignOptions& options;
  torch::Tensor E0;                // [V, d] float32 on the CPU: the model's input table
  json& report;                    // the method adds its own entries
  std::string log_path;            // JSONL of the logged terms ("" = none)
  std::chrono::steady_clock::time_point t0;  // when the alignment started (logged elapsed times)
  model::PrecisionChoice precision;  // of the frozen model's forward passes (options.precision resolved)
  // Called after each loop checkpoint is written, with the steps it holds (tests interrupt the
  // loop here by throwing).
  std::function<void(int)> on_checkpoint;
  // Set by the method: the calibration frequency of every id [V] (HCMA: from its statistics),
  // by which the report buckets the movement.
  torch::Tensor counts;
  // The windows of the statistics pass and of the LM batches, in tokens: the model's context
  // unless capped (align_embeddings' `context`; a Llama's max_position_embeddings may be far
  // longer than a calibration pass needs).
  std::int64_t context = 0;
};

class AlignMethod {
 public:
  virtual ~AlignMethod() = default;
  virtual std::string name() const = 0;
  virtual bool deterministic() const = 0;  // closed form: one result for every seed
  virtual bool uses_lm() const = 0;        // forward passes of the model during the loop
  // The new input table [V, d] (float32, CPU); fills run.counts.
  virtual torch::Tensor align(AlignRun& run) = 0;
};

// The method named by opt.method, holding its own options; an unknown name is an error naming
// `where` and the known methods.
std::unique_ptr<AlignMethod> make_align_method(const AlignOptions& opt, const std::string& where = "align");
const std::vector<std::string>& method_names();  // hcma abtt whiten emb-finetune emb-noise cosreg shrink

// HCMA's statistics pass (§2a, under the run's precision) and hierarchy (§2b), with their sizes
// and times in run.report and run.counts set: shared by hcma and the shrink baseline.
struct ContextHierarchy {
  ContextStats stats;
  Hierarchy hierarchy;
};
ContextHierarchy context_hierarchy(AlignRun& run, const HcmaOptions& opt);

// The calibration frequencies of every id over the first options.calib_tokens tokens (all: 0),
// for the methods that do not scan the calibration text themselves.
torch::Tensor calibration_counts(const AlignRun& run);

}  // namespace structlm::hcma
