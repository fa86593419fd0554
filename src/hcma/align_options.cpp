#include "hcma/align_options.h"
#include <cmath>

#include "hcma/align_method.h"
#include "core/error.h"
#include "model/precision_name.h"

namespace structlm::hcma {

const FieldTable<LoopOptions>& LoopOptions::fields() {
  using O = LoopOptions;
  static const auto t =
      FieldTable<O>()
          .add("steps", +[](O& o) -> int& { return o.steps; }, "optimisation steps (trained methods)", "positive", positive)
          .add("lr", +[](O& o) -> double& { return o.lr; }, "Adam's learning rate, relative to E's RMS entry", "positive", positive)
          .add("batch_size", +[](O& o) -> int& { return o.batch_size; }, "LM batches of block_size tokens", "positive", positive)
          .add("log_every", +[](O& o) -> int& { return o.log_every; }, "steps between logged terms", "positive", positive)
          .add("optimizer", +[](O& o) -> std::string& { return o.optimizer; },
               "the table's optimiser: adam (per-entry steps) or sgd (steps proportional to each row's gradient)",
               "adam or sgd", [](const std::string& v) { return v == "adam" || v == "sgd"; })
          .add("checkpoint_every", +[](O& o) -> int& { return o.checkpoint_every; },
               "steps between loop checkpoints in the report directory, resumed on rerun (0: none)", "non-negative",
               non_negative);
  return t;
}

const FieldTable<HcmaOptions>& HcmaOptions::fields() {
  using O = HcmaOptions;
  static const auto t =
      FieldTable<O>()
          .add("layer", +[](O& o) -> int& { return o.layer; }, "HCMA: the layer of the contextual states (-1: the middle)")
          .add("branching", +[](O& o) -> int& { return o.hierarchy.branching; }, "HCMA: k-means branching b", "at least 2", at_least(2))
          .add("depth", +[](O& o) -> int& { return o.hierarchy.depth; }, "HCMA: hierarchy depth D", "positive", positive)
          .add("min_count", +[](O& o) -> std::int64_t& { return o.hierarchy.min_count; }, "HCMA: n_min, tokens clustered on their own mean", "positive", positive)
          .add("kmeans_iterations", +[](O& o) -> int& { return o.hierarchy.iterations; }, "HCMA: Lloyd iterations per split", "positive", positive)
          .add("neighbours", +[](O& o) -> int& { return o.terms.neighbours; }, "HCMA: k neighbourhood candidates", "positive", positive)
          .add("tau", +[](O& o) -> double& { return o.terms.tau; }, "HCMA: P_ctx temperature", "positive", positive)
          .add("tau_e", +[](O& o) -> double& { return o.terms.tau_e; }, "HCMA: P_E temperature", "positive", positive)
          .add("kappa", +[](O& o) -> double& { return o.terms.kappa; }, "HCMA: smoothing of mu towards the leaf", "non-negative", non_negative)
          .add("rho_min", +[](O& o) -> double& { return o.terms.rho_min; }, "HCMA: proximity weight of an unseen token", "in [0, 1]",
               [](double v) { return v >= 0 && v <= 1; })
          .add("lambda_nb", +[](O& o) -> double& { return o.terms.lambda_nb; }, "HCMA: weight of the neighbourhood KL", "non-negative", non_negative)
          .add("lambda_h", +[](O& o) -> double& { return o.terms.lambda_h; }, "HCMA: weight of the hierarchical W2", "non-negative", non_negative)
          .add("lambda_p", +[](O& o) -> double& { return o.terms.lambda_p; }, "HCMA: weight of the proximity term", "non-negative", non_negative)
          .add("lambda_lm", +[](O& o) -> double& { return o.lambda_lm; }, "HCMA: weight of the optional LM loss", "non-negative", non_negative)
          .add("token_batch", +[](O& o) -> std::int64_t& { return o.terms.token_batch; }, "HCMA: tokens per step in the KL term", "positive", positive)
          .add("trust_radius", +[](O& o) -> double& { return o.terms.trust_radius; },
               "HCMA: trust region, |E_t - E0_t| <= trust_radius |E0_t| kappa/(n_t + kappa) after every step (0: off)",
               "non-negative", non_negative)
          .add("freeze_min_count", +[](O& o) -> std::int64_t& { return o.terms.freeze_min_count; },
               "HCMA: rows of tokens seen at least this often stay byte-identical (0: none frozen)", "non-negative",
               non_negative)
          .add("target_fit", +[](O& o) -> std::string& { return o.terms.target_fit; },
               "HCMA: the W2 targets' linear map is fitted on raw mu or on the smoothed mu~ it is applied to",
               "raw or smoothed", [](const std::string& v) { return v == "raw" || v == "smoothed"; })
          .add("target_spread", +[](O& o) -> std::string& { return o.terms.target_spread; },
               "HCMA: W2 target spread: mapped (of the mapped mu~), members (of the members' E0) or sigma (mapped mu~ plus mapped sigma^2)",
               "mapped, members or sigma",
               [](const std::string& v) { return v == "mapped" || v == "members" || v == "sigma"; })
          .add("kl_batch", +[](O& o) -> std::string& { return o.terms.kl_batch; },
               "HCMA: tokens of the KL term: uniform (all with candidates), frequent (n_t >= min_count) or weighted (by n_t)",
               "uniform, frequent or weighted",
               [](const std::string& v) { return v == "uniform" || v == "frequent" || v == "weighted"; });
  return t;
}

const FieldTable<AbttOptions>& AbttOptions::fields() {
  using O = AbttOptions;
  static const auto t = FieldTable<O>().add("abtt_directions", +[](O& o) -> int& { return o.directions; },
                                            "abtt: directions removed (0: d/100)", "non-negative", non_negative);
  return t;
}

const FieldTable<EmbNoiseOptions>& EmbNoiseOptions::fields() {
  using O = EmbNoiseOptions;
  static const auto t = FieldTable<O>().add("noise", +[](O& o) -> double& { return o.noise; },
                                            "emb-noise: noise norm relative to the mean row norm", "non-negative", non_negative);
  return t;
}

const FieldTable<CosregOptions>& CosregOptions::fields() {
  using O = CosregOptions;
  static const auto t = FieldTable<O>().add("cosreg", +[](O& o) -> double& { return o.weight; },
                                            "cosreg: weight of the mean pairwise cosine", "non-negative", non_negative);
  return t;
}

const FieldTable<ShrinkOptions>& ShrinkOptions::fields() {
  using O = ShrinkOptions;
  static const auto t = FieldTable<O>().add("a", +[](O& o) -> double& { return o.a; },
                                            "shrink: weight of the leaf centroid, E* = (1 - a) E + a m_leaf", "in [0, 1]",
                                            [](double v) { return v >= 0 && v <= 1; })
                            .add("match_checkpoint", +[](O& o) -> std::string& { return o.match_checkpoint; },
                                 "shrink: choose a so that the clean loss increase on match_shard equals this aligned "
                                 "model's (empty: a as given)")
                            .add("match_shard", +[](O& o) -> std::string& { return o.match_shard; },
                                 "shrink with match_checkpoint: the validation token shard the losses are measured on")
                            .add("match_tokens", +[](O& o) -> std::size_t& { return o.match_tokens; },
                                 "shrink with match_checkpoint: tokens of match_shard measured (0: all)")
                            .add("match_tol", +[](O& o) -> double& { return o.match_tol; },
                                 "shrink with match_checkpoint: tolerance of the matched loss increase, nats", "> 0",
                                 [](double v) { return std::isfinite(v) && v > 0; })
                            .add("match_iterations", +[](O& o) -> int& { return o.match_iterations; },
                                 "shrink with match_checkpoint: bisection steps at most", "> 0",
                                 [](int v) { return v > 0; });
  return t;
}

const FieldTable<AlignOptions>& AlignOptions::fields() {
  using O = AlignOptions;
  static const auto t =
      FieldTable<O>()
          .add("method", +[](O& o) -> std::string& { return o.method; }, "hcma, abtt, whiten, emb-finetune, emb-noise, cosreg or shrink")
          .add("seed", +[](O& o) -> std::uint64_t& { return o.seed; }, "random seed of the method")
          .include(LoopOptions::fields(), +[](O& o) -> LoopOptions& { return o.loop; })
          .include(HcmaOptions::fields(), +[](O& o) -> HcmaOptions& { return o.hcma; })
          .include(AbttOptions::fields(), +[](O& o) -> AbttOptions& { return o.abtt; })
          .include(EmbNoiseOptions::fields(), +[](O& o) -> EmbNoiseOptions& { return o.emb_noise; })
          .include(CosregOptions::fields(), +[](O& o) -> CosregOptions& { return o.cosreg; })
          .include(ShrinkOptions::fields(), +[](O& o) -> ShrinkOptions& { return o.shrink; })
          .add("calib_tokens", +[](O& o) -> std::size_t& { return o.calib_tokens; }, "cap on calibration tokens scanned (0: all)")
          .move_after("calib_tokens", "layer")  // where --help and the known-keys message have always listed it
          .add("precision", +[](O& o) -> std::string& { return o.precision; },
               "the frozen model's forward passes: bf16 = bf16 matmuls; auto = bf16 where faster", model::kPrecisionNames,
               model::is_precision_name);
  return t;
}

json AlignOptions::to_json() const { return fields().to_json(*this); }

AlignOptions AlignOptions::from_json(const json& j, const std::string& path) {
  check(j.is_object(), path, "alignment options must be a JSON object");
  AlignOptions o;
  fields().read(j, o, path);
  make_align_method(o, path);  // an unknown method fails here, naming the file
  check(o.shrink.match_checkpoint.empty() || o.method == "shrink", path,
        "'match_checkpoint' is an option of the shrink method, not of " + o.method);
  check(o.shrink.match_checkpoint.empty() == o.shrink.match_shard.empty(), path,
        "'match_checkpoint' and 'match_shard' go together (the aligned model to match, the validation shard)");
  return o;
}

bool AlignOptions::trained() const { return !deterministic(); }
bool AlignOptions::deterministic() const { return make_align_method(*this)->deterministic(); }
bool AlignOptions::uses_lm() const { return make_align_method(*this)->uses_lm(); }

}  // namespace structlm::hcma
