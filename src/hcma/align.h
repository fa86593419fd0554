// `structlm align`: a new input embedding table E* for a trained, frozen model (docs/METHODS.md
// §2, docs/HCMA.md). Methods:
//   hcma          the hierarchical contextual manifold alignment (§2a-c)
//   abtt, whiten  closed-form post-processing of E
//   emb-finetune  Adam on E by the LM loss on the calibration text ("conventional fine-tuning")
//   emb-noise     the same with Gaussian noise on the input embeddings ("embedding perturbation")
//   cosreg        the LM loss plus the mean pairwise cosine of E (Gao et al. 2019)
// Every trained method runs the same loop: Adam on E only (the rest of the model is a frozen
// copy, the output matrix included), cosine learning-rate decay, each term logged.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "hcma/objective.h"
#include "hcma/hierarchy.h"
#include "core/fields.h"
#include "core/json.h"
#include "data/shard.h"
#include "model/gpt.h"

namespace structlm::align {

const std::vector<std::string>& method_names();  // hcma abtt whiten emb-finetune emb-noise cosreg

struct AlignOptions {
  std::string method = "hcma";
  std::uint64_t seed = 1;
  // Trained methods.
  int steps = 300;
  double lr = 0.02;          // relative to the RMS entry of E⁰ (Adam's steps are in E's units)
  int batch_size = 8;        // LM batches (sequences of block_size)
  int log_every = 10;
  // HCMA.
  int layer = -1;            // -1: the middle (hcma/context_stats.h)
  std::size_t calib_tokens = 0;  // cap on the tokens the statistics scan (0: all)
  HierarchyOptions hierarchy;
  HcmaTermOptions terms;
  double lambda_lm = 0;      // optional LM loss through the frozen model
  // Baselines.
  int abtt_directions = 0;   // 0: max(1, round(d / 100))
  double noise = 0.1;        // emb-noise: noise row norm relative to the mean row norm of E⁰
  double cosreg = 1.0;       // cosreg: weight of the mean pairwise cosine

  // The field table (core/fields.h): names, members, checks and help of every option above.
  static const FieldTable<AlignOptions>& fields();
  json to_json() const;
  // Unknown keys and bad values are errors naming `path` and the field.
  static AlignOptions from_json(const json& j, const std::string& path);
  bool trained() const;      // runs the optimisation loop
  bool uses_lm() const;      // needs forward passes of the model during the loop
  bool deterministic() const;  // the same result for every seed (closed form)
};

struct AlignResult {
  torch::Tensor E;  // [V, d] float32, the new input table
  // method, options, wall_s, steps, per-term log (also in log_path), hierarchy sizes (hcma),
  // movement by calibration-frequency bucket: mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖.
  json report;
};

// model: the trained model (unchanged by this call); calib: the calibration token stream.
// log_path: JSONL of the logged terms ("" = none), written as the loop runs.
AlignResult align_embeddings(model::GPT& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path = "");

// The model with input table E and everything else copied from `model`; untied when `model`
// was tied (the output keeps the original matrix). Parameters do not require gradients.
model::GPT with_input_embeddings(model::GPT& model, const torch::Tensor& E);

}  // namespace structlm::align
