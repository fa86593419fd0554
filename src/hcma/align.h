// `structlm align`: a new input embedding table E* for a trained, frozen model (docs/METHODS.md
// §2, docs/HCMA.md). Methods (hcma/align_method.h, built by name):
//   hcma          the hierarchical contextual manifold alignment (§2a-c)
//   abtt, whiten  closed-form post-processing of E
//   emb-finetune  Adam on E by the LM loss on the calibration text ("conventional fine-tuning")
//   emb-noise     the same with Gaussian noise on the input embeddings ("embedding perturbation")
//   cosreg        the LM loss plus the mean pairwise cosine of E (Gao et al. 2019)
//   shrink        E* = (1 − a) E + a m_leaf, the leaf centroids of HCMA's hierarchy
// Every trained method runs the same loop (hcma/align_loop.h): Adam on E only (the rest of the
// model is a frozen copy, the output matrix included), cosine learning-rate decay, each term logged.
#pragma once
#include <torch/torch.h>

#include <functional>
#include <string>

#include "hcma/align_options.h"
#include "core/json.h"
#include "data/shard.h"
#include "model/causal_lm.h"
#include "model/gpt.h"
#include "zoo/zoo.h"

namespace structlm::hcma {

struct AlignResult {
  torch::Tensor E;  // [V, d] float32, the new input table
  // method, options, wall_s, steps, per-term log (also in log_path), hierarchy sizes (hcma),
  // movement by calibration-frequency bucket: mean ‖E*_t − E⁰_t‖ / ‖E⁰_t‖.
  json report;
};

// model: the trained model of any architecture (the GPT, the Llama family), seen through its
// embedding view (model/causal_lm.h), unchanged by this call; calib: the calibration token
// stream. log_path: JSONL of the logged terms ("" = none), written as the loop runs; with
// checkpoint_every, the loop's state is kept beside it (hcma/align_loop.h). on_checkpoint: called
// after each checkpoint with the steps it holds (tests interrupt the loop there). context: the
// windows of the statistics pass and the LM batches (0: the model's context length; otherwise
// 2 .. that length), recorded in the report when set.
AlignResult align_embeddings(model::CausalLM& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path = "", std::function<void(int)> on_checkpoint = {},
                             std::int64_t context = 0);
AlignResult align_embeddings(model::GPT& model, const data::TokenStream& calib, const AlignOptions& opt,
                             const std::string& log_path = "", std::function<void(int)> on_checkpoint = {});

// The model with input table E and everything else copied from `model` (same architecture and
// configuration, built by zoo::make_like); untied when `model` was tied: the output
// (lm_head.weight) keeps the original matrix, and the input table alone is E. Parameters do not
// require gradients; on `model`'s device, in eval mode.
zoo::LoadedModel with_input_embeddings(model::CausalLM& model, const torch::Tensor& E);
model::GPT with_input_embeddings(model::GPT& model, const torch::Tensor& E);

}  // namespace structlm::hcma
