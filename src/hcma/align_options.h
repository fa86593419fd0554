// The options of `structlm align`: one struct per method, each with its own field table
// (core/fields.h), gathered in AlignOptions. The file format (options.json, the "align" and
// "methods" sections of configs/hcma.json, --set) stays one flat object: every field's name is
// unique across the methods.
#pragma once
#include <cstdint>
#include <string>

#include "hcma/hierarchy.h"
#include "hcma/objective.h"
#include "core/fields.h"
#include "core/json.h"

namespace structlm::hcma {

// The Adam loop every trained method runs (hcma/align_loop.h).
struct LoopOptions {
  int steps = 300;
  double lr = 0.02;    // relative to the RMS entry of E⁰ (Adam's steps are in E's units)
  int batch_size = 8;  // LM batches (sequences of block_size); HCMA's statistics pass too
  int log_every = 10;
  // The table's optimiser (docs/HCMA.md, issue 15): "adam" normalises every entry's step by its
  // own gradient history, so every row moves about lr per step whatever its gradient's size;
  // "sgd" (momentum, with one step normaliser for the whole table) moves each row in proportion
  // to its own gradient, so HCMA's ρ_t scales how far a row is pulled back.
  std::string optimizer = "adam";
  // Write the loop's state (E, the optimiser's moments, the step, the generators) every this many
  // steps next to the log (REPORT_DIR/loop_state.pt), atomically; a rerun with the same options
  // resumes from it bit for bit. 0: never.
  int checkpoint_every = 0;
  static const FieldTable<LoopOptions>& fields();
};

struct HcmaOptions {
  int layer = -1;  // -1: the middle (hcma/context_stats.h)
  HierarchyOptions hierarchy;
  HcmaTermOptions terms;
  double lambda_lm = 0;  // optional LM loss through the frozen model
  static const FieldTable<HcmaOptions>& fields();
};

struct AbttOptions {
  int directions = 0;  // 0: max(1, round(d / 100))
  static const FieldTable<AbttOptions>& fields();
};

struct EmbNoiseOptions {
  double noise = 0.1;  // noise row norm relative to the mean row norm of E⁰
  static const FieldTable<EmbNoiseOptions>& fields();
};

struct CosregOptions {
  double weight = 1.0;  // of the mean pairwise cosine
  static const FieldTable<CosregOptions>& fields();
};

// E* = (1 − a) E⁰ + a m_leaf(t), m_leaf the token's leaf centroid in embedding space of HCMA's
// hierarchy (built with the hcma options: layer, branching, depth, min_count, kmeans_iterations).
// With match_checkpoint (issue 15, item 2), a is not given but chosen by bisection on [0, 1] so
// that the clean loss increase over the source on match_shard (a validation split; a file named
// test.bin is refused) equals match_checkpoint's (an aligned model of the same source) within
// match_tol nats; the report's "match" records a, both losses and every evaluation.
struct ShrinkOptions {
  double a = 0.1;
  std::string match_checkpoint, match_shard;
  std::size_t match_tokens = 100000;  // the first tokens of match_shard (0: all)
  double match_tol = 0.001;           // nats
  int match_iterations = 30;          // bisection midpoints at most
  static const FieldTable<ShrinkOptions>& fields();
};

struct AlignOptions {
  std::string method = "hcma";
  std::uint64_t seed = 1;
  std::size_t calib_tokens = 0;  // cap on the calibration tokens scanned (0: all)
  // The frozen model's forward passes (statistics pass, LM terms): auto, fp32 or bf16, as
  // train.precision (model/precision.h). E, its optimizer and HCMA's objective stay fp32.
  std::string precision = "auto";
  LoopOptions loop;
  HcmaOptions hcma;
  AbttOptions abtt;
  EmbNoiseOptions emb_noise;
  CosregOptions cosreg;
  ShrinkOptions shrink;

  // Every method's table included, in the key order the files have always had.
  static const FieldTable<AlignOptions>& fields();
  json to_json() const;
  // Unknown keys, bad values and unknown methods are errors naming `path` and the field.
  static AlignOptions from_json(const json& j, const std::string& path);
  // Forwards to the method (hcma/align_method.h), for callers that hold only the options.
  bool trained() const;        // runs the optimisation loop
  bool uses_lm() const;        // needs forward passes of the model during the loop
  bool deterministic() const;  // the same result for every seed (closed form)
};

}  // namespace structlm::hcma
